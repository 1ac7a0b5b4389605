/**
 * Maps anything a handler or middleware threw to a problem. Only our own `HttpProblem` and the
 * well-known errors of the body parser and router become client errors; everything else is a
 * 500 whose body says nothing but the request id.
 */
import { coreProblems, HttpProblem } from './problem.ts';

interface HttpishError {
  status?: unknown;
  statusCode?: unknown;
  type?: unknown;
  expose?: unknown;
}

export function toProblem(err: unknown): HttpProblem {
  if (err instanceof HttpProblem) return err;
  const e = (typeof err === 'object' && err !== null ? err : {}) as HttpishError;
  const status = typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : 500;
  switch (e.type) {
    case 'entity.parse.failed':
      return coreProblems.malformed_body('The request body is not valid JSON.');
    case 'entity.too.large':
      return coreProblems.payload_too_large('The request body is larger than this route accepts.');
    case 'charset.unsupported':
    case 'encoding.unsupported':
      return coreProblems.unsupported_media_type('The request body uses an unsupported charset or content encoding.');
    case 'request.aborted':
      return coreProblems.malformed_body('The request body was cut short.');
  }
  // `ctx.throw(status)` in a handler or guard (Koa's http-errors) means that status.
  if (status === 401) return coreProblems.unauthenticated();
  if (status === 403) return coreProblems.forbidden();
  if (status === 404) return coreProblems.not_found();
  if (status === 413) return coreProblems.payload_too_large();
  if (status === 415) return coreProblems.unsupported_media_type();
  if (status === 422) return coreProblems.validation_failed();
  if (status === 429) return coreProblems.rate_limited();
  // co-body marks JSON syntax errors (and prototype-poisoning attempts) with a bare 400.
  if (status === 400) return coreProblems.malformed_body('The request body is not valid JSON.');
  return coreProblems.internal_error('An unexpected error occurred; quote the request id when reporting it.');
}

/**
 * True when the error is ours to log as a server fault, with its stack. A problem raised on
 * purpose is an answer, not a fault (501 for a method nobody serves is the client's mistake;
 * 503 while time runs out or a dependency is away is said elsewhere), unless it is a 500.
 */
export function isServerFault(err: unknown, problem: HttpProblem): boolean {
  if (problem.status < 500) return false;
  return !(err instanceof HttpProblem) || problem.status === 500;
}
