import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as v from 'valibot';
import { definePlugin, HttpProblem } from '../core/index.ts';
import { createTestKernel, type TestKernel } from '../host/testing.ts';
import { captureLogger } from './support/capture-logger.ts';

const echo = definePlugin({
  id: 'echo',
  version: '1.0.0',
  routes(router) {
    router.post(
      '/v1/echo',
      { body: v.strictObject({ name: v.pipe(v.string(), v.minLength(2)), age: v.optional(v.number()) }), bodyLimitBytes: 200 },
      (ctx) => {
        ctx.body = { hello: ctx.state.body.name };
      },
    );
    router.get('/v1/echo/items/:id', (ctx) => {
      ctx.body = { id: ctx.params.id, ip: ctx.ip };
    });
    router.get('/v1/echo/slow', { timeoutMs: 50 }, async (ctx) => {
      await new Promise((resolve) => setTimeout(resolve, 500));
      ctx.body = { late: true };
    });
    router.get('/v1/echo/crash', () => {
      throw new Error('password=hunter2 SELECT * FROM users');
    });
    router.get('/v1/echo/teapot', () => {
      throw new HttpProblem({ status: 418, code: 'teapot', title: 'I am a teapot', headers: { 'Retry-After': '7' } });
    });
    router.get('/v1/echo/log', (ctx) => {
      ctx.state.log.info({ password: 'hunter2', nested: { token: 'abc' } }, 'handler says hi');
      ctx.body = { ok: true };
    });
  },
});

describe('HTTP pipeline', () => {
  let t: TestKernel;
  const logs = captureLogger('info');

  before(async () => {
    t = await createTestKernel({
      plugins: [echo],
      logger: logs.logger,
      http: { allowedOrigins: ['https://app.example.com'], trustedProxies: ['127.0.0.1'] },
    });
  });
  after(() => t.close());

  const expectProblem = (res: Awaited<ReturnType<TestKernel['inject']>>, status: number, code: string) => {
    assert.equal(res.statusCode, status, res.body);
    assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
    const body = res.json() as Record<string, unknown>;
    assert.equal(body.code, code);
    assert.equal(body.status, status);
    assert.equal(body.type, `urn:empulse:problem:${code}`);
    assert.equal(typeof body.title, 'string');
    assert.equal(body.requestId, res.headers['x-request-id']);
    return body;
  };

  it('answers a valid JSON request', async () => {
    const res = await t.inject({ method: 'POST', url: '/v1/echo', payload: { name: 'Ada' } });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { hello: 'Ada' });
  });

  it('keeps a well-formed X-Request-Id and replaces a malformed one', async () => {
    const kept = await t.inject({ url: '/v1/echo/items/1', headers: { 'x-request-id': 'abc.DEF_123-x' } });
    assert.equal(kept.headers['x-request-id'], 'abc.DEF_123-x');
    const replaced = await t.inject({ url: '/v1/echo/items/1', headers: { 'x-request-id': 'bad id with spaces' } });
    assert.match(String(replaced.headers['x-request-id']), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const tooLong = await t.inject({ url: '/v1/echo/items/1', headers: { 'x-request-id': 'a'.repeat(129) } });
    assert.notEqual(tooLong.headers['x-request-id'], 'a'.repeat(129));
  });

  it('logs every request with its request id and passes traceparent through', async () => {
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const res = await t.inject({ url: '/v1/echo/log', headers: { 'x-request-id': 'trace-me-1', traceparent } });
    assert.equal(res.statusCode, 200);
    const mine = logs.lines.filter((l) => l.requestId === 'trace-me-1');
    assert.ok(mine.some((l) => l.msg === 'handler says hi'), 'handler line carries the request id');
    assert.ok(mine.some((l) => l.msg === 'request' && l.status === 200), 'access line carries the request id');
    assert.ok(mine.every((l) => l.traceparent === traceparent));
  });

  it('redacts secrets in log lines', async () => {
    await t.inject({ url: '/v1/echo/log', headers: { 'x-request-id': 'redact-1' } });
    const text = logs.text();
    assert.ok(!text.includes('hunter2'), 'password value must not be logged');
    const line = logs.lines.find((l) => l.requestId === 'redact-1' && l.msg === 'handler says hi')!;
    assert.equal(line.password, '[redacted]');
    assert.deepEqual(line.nested, { token: '[redacted]' });
  });

  it('answers 404 not_found for an unknown route', async () => {
    expectProblem(await t.inject({ url: '/v1/nothing-here' }), 404, 'not_found');
  });

  it('answers 405 method_not_allowed with Allow for a known path', async () => {
    const res = await t.inject({ method: 'DELETE', url: '/v1/echo' });
    expectProblem(res, 405, 'method_not_allowed');
    assert.match(String(res.headers.allow), /POST/);
  });

  it('answers 400 malformed_body for broken JSON', async () => {
    const res = await t.inject({ method: 'POST', url: '/v1/echo', headers: { 'content-type': 'application/json' }, payload: '{"name": ' });
    expectProblem(res, 400, 'malformed_body');
  });

  it('answers 413 payload_too_large over the route limit', async () => {
    const res = await t.inject({ method: 'POST', url: '/v1/echo', payload: { name: 'x'.repeat(500) } });
    expectProblem(res, 413, 'payload_too_large');
  });

  it('answers 413 when a chunked body exceeds the limit while streaming', async () => {
    const res = await t.inject({
      method: 'POST',
      url: '/v1/echo',
      headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      payload: JSON.stringify({ name: 'y'.repeat(1000) }),
    });
    expectProblem(res, 413, 'payload_too_large');
  });

  it('answers 415 unsupported_media_type for a non-JSON body', async () => {
    const res = await t.inject({ method: 'POST', url: '/v1/echo', headers: { 'content-type': 'text/plain' }, payload: 'name=Ada' });
    expectProblem(res, 415, 'unsupported_media_type');
  });

  it('answers 422 validation_failed with a list of field errors', async () => {
    const res = await t.inject({ method: 'POST', url: '/v1/echo', payload: { name: 'A', age: 'old', extra: 1 } });
    const body = expectProblem(res, 422, 'validation_failed');
    const errors = body.errors as { path: string; message: string }[];
    assert.ok(errors.some((e) => e.path === 'name'));
    assert.ok(errors.some((e) => e.path === 'age'));
    assert.ok(errors.some((e) => e.path === 'extra'));
  });

  it('answers 503 request_timeout when a handler outlives its budget', async () => {
    expectProblem(await t.inject({ url: '/v1/echo/slow' }), 503, 'request_timeout');
  });

  it('hides the cause of a 500 and logs it with the request id', async () => {
    const res = await t.inject({ url: '/v1/echo/crash', headers: { 'x-request-id': 'crash-1' } });
    const body = expectProblem(res, 500, 'internal_error');
    assert.ok(!res.body.includes('hunter2') && !res.body.includes('SELECT') && !res.body.includes('at '), 'no cause, SQL or stack');
    assert.ok(logs.lines.some((l) => l.requestId === 'crash-1' && l.msg === 'request failed'));
    assert.equal(body.detail?.toString().includes('request id'), true);
  });

  it("passes a plugin's own problem through with its headers", async () => {
    const res = await t.inject({ url: '/v1/echo/teapot' });
    expectProblem(res, 418, 'teapot');
    assert.equal(res.headers['retry-after'], '7');
  });

  it('sets security headers on every response, errors included', async () => {
    for (const url of ['/v1/echo/items/1', '/v1/nothing']) {
      const res = await t.inject({ url });
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      assert.ok(res.headers['content-security-policy']);
      assert.equal(res.headers['x-frame-options'], 'DENY');
      assert.equal(res.headers['content-security-policy'], "default-src 'none';frame-ancestors 'none'");
      assert.equal(res.headers['strict-transport-security'], undefined, 'no HSTS over plain HTTP');
    }
  });

  it('adds HSTS when a trusted proxy says the request came over TLS', async () => {
    const res = await t.inject({ url: '/v1/echo/items/1', headers: { 'x-forwarded-proto': 'https' }, remoteAddress: '127.0.0.1' });
    assert.match(String(res.headers['strict-transport-security']), /max-age=\d+/);
  });

  it('allows CORS only for configured origins', async () => {
    const ok = await t.inject({ url: '/v1/echo/items/1', headers: { origin: 'https://app.example.com' } });
    assert.equal(ok.headers['access-control-allow-origin'], 'https://app.example.com');
    const preflight = await t.inject({
      method: 'OPTIONS',
      url: '/v1/echo',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST' },
    });
    assert.equal(preflight.statusCode, 204);
    assert.match(String(preflight.headers['access-control-allow-methods']), /POST/);
    const denied = await t.inject({ url: '/v1/echo/items/1', headers: { origin: 'https://evil.example.com' } });
    assert.equal(denied.headers['access-control-allow-origin'], undefined);
  });

  it('believes X-Forwarded-For only from trusted proxies', async () => {
    const viaProxy = await t.inject({ url: '/v1/echo/items/1', headers: { 'x-forwarded-for': '203.0.113.9' }, remoteAddress: '127.0.0.1' });
    assert.equal(viaProxy.json().ip, '203.0.113.9');
    const spoofed = await t.inject({ url: '/v1/echo/items/1', headers: { 'x-forwarded-for': '203.0.113.9' }, remoteAddress: '198.51.100.7' });
    assert.equal(spoofed.json().ip, '198.51.100.7');
    const chain = await t.inject({
      url: '/v1/echo/items/1',
      headers: { 'x-forwarded-for': '1.1.1.1, 203.0.113.9' },
      remoteAddress: '127.0.0.1',
    });
    assert.equal(chain.json().ip, '203.0.113.9', 'the nearest untrusted hop, not a client-chosen one');
  });
});
