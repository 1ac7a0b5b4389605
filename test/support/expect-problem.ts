/** Asserts an RFC 9457 answer: status, media type, code, and the request id echoed in the body. */
import assert from 'node:assert/strict';
import type { Response } from 'light-my-request';

export interface ProblemJson extends Record<string, unknown> {
  readonly code: string;
  readonly status: number;
  readonly errors?: { path: string; message: string }[];
}

export function expectProblem(res: Response, status: number, code: string): ProblemJson {
  assert.equal(res.statusCode, status, res.body);
  assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
  const body = res.json() as ProblemJson;
  assert.equal(body.code, code);
  assert.equal(body.status, status);
  assert.equal(body.requestId, res.headers['x-request-id']);
  return body;
}
