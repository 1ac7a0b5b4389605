/**
 * The four findings of the external probe (issue "Security: four findings"), each through HTTP:
 * control characters in text fields (and identical answers for existing and new emails whatever
 * the fields hold), unauthenticated routes limited per address whatever token the request carries,
 * a slow body cut off with its connection at the time budget (over a real socket), and access
 * tokens that lack a claim we issue. Also: an unknown method is the client's mistake in the log.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import * as v from 'valibot';
import type { Response } from 'light-my-request';
import { configure, definePlugin, multiline } from '../core/index.ts';
import { createTestKernel, type TestKernel } from '../host/testing.ts';
import { serve } from '../host/server.ts';
import { authPlugin } from '../plugins/auth/index.ts';
import { emailPlugin } from '../plugins/email/index.ts';
import { ratelimitPlugin } from '../plugins/ratelimit/index.ts';
import { captureLogger } from './support/capture-logger.ts';
import { expectProblem } from './support/expect-problem.ts';

const JWT_SECRET = 'security-findings-secret-0123456789-abcdefghijklmnopq';
const PASSWORD = 'correct horse battery staple';
const freshEmail = (label: string) => `${label}-${randomBytes(5).toString('hex')}@example.test`;

/** Status, media type and body of an answer, without what differs on every request. */
function shape(res: Response): unknown {
  const body = res.body === '' ? '' : (res.json() as Record<string, unknown>);
  if (typeof body === 'object') delete body.requestId;
  return { status: res.statusCode, type: res.headers['content-type'], body };
}

/** Field values an attacker sends: control characters, broken UTF-16, huge and odd text. */
const HOSTILE = [
  'x\u0000y', '\u0000', 'a\u0007b', '\u001b[31mred', 'del\u007f', 'line\nbreak', 'tab\there', 'cr\rlf',
  '\ud800lone', '\u202eevil', '\ufeffbom', 'ﬀ ligature password', 'a'.repeat(5000), '😀'.repeat(60), '😀'.repeat(50),
  "' OR 1=1 --", '%00', '\\u0000', '', ' ',
];

describe('security findings', () => {
  let outboxDir: string;
  let t: TestKernel;
  let existing: string;

  before(async () => {
    outboxDir = mkdtempSync(join(tmpdir(), 'empulse-sec-'));
    t = await createTestKernel({
      plugins: [authPlugin, configure(emailPlugin, { transport: 'outbox', outboxDir })],
      env: { JWT_SECRET },
    });
    existing = freshEmail('existing');
    const res = await t.inject({ method: 'POST', url: '/v1/auth/register', payload: { email: existing, password: PASSWORD, displayName: 'Existing' } });
    assert.equal(res.statusCode, 202);
    await t.kernel.database.orm.em.getConnection().execute('update auth_users set email_verified_at = now()');
  });
  after(async () => {
    await t?.close();
    rmSync(outboxDir, { recursive: true, force: true });
  });

  describe('1. control characters', () => {
    it('register refuses a NUL in displayName with 422 naming the field, for existing and new emails alike', async () => {
      for (const email of [existing, freshEmail('new')]) {
        const res = await t.inject({ method: 'POST', url: '/v1/auth/register', payload: { email, password: PASSWORD, displayName: 'x\u0000y' } });
        const problem = expectProblem(res, 422, 'validation_failed');
        assert.deepEqual(problem.errors?.map((e) => e.path), ['displayName']);
      }
      const rows = await t.kernel.database.orm.em.getConnection().execute("select id from auth_users where display_name like 'x%y'");
      assert.equal(rows.length, 0, 'no row was written');
    });

    it('register, login and forgot-password answer identically for existing and new emails whatever the fields hold', async () => {
      const post = (url: string, payload: unknown) => t.inject({ method: 'POST', url, payload: payload as Record<string, unknown> });
      for (const value of HOSTILE) {
        const cases: [string, (email: string) => unknown][] = [
          ['/v1/auth/register', (email) => ({ email, password: PASSWORD, displayName: value })],
          ['/v1/auth/register', (email) => ({ email, password: value, displayName: 'Someone' })],
          ['/v1/auth/login', (email) => ({ email, password: value })],
          ['/v1/auth/login', (email) => ({ email: email + value, password: PASSWORD + 'x' })],
          ['/v1/auth/forgot-password', (email) => ({ email: email + value })],
          ['/v1/auth/forgot-password', (email) => ({ email, extra: value })],
        ];
        for (const [url, body] of cases) {
          const forExisting = shape(await post(url, body(existing)));
          const forNew = shape(await post(url, body(freshEmail('existing')))); // same length, new address
          assert.deepEqual(forNew, forExisting, `${url} with ${JSON.stringify(value).slice(0, 40)}`);
          assert.notEqual((forNew as { status: number }).status, 500, `${url} must not fail with 500`);
        }
      }
    });

    it('applies to every plugin: nested and array fields are named, tab and newline only in multiline() fields', async () => {
      const seen: unknown[] = [];
      const profile = definePlugin({
        id: 'profile',
        version: '1.0.0',
        routes(router) {
          const Body = v.object({
            name: v.string(),
            bio: v.optional(v.pipe(v.string(), multiline(), v.maxLength(2000))),
            links: v.optional(v.array(v.string())),
            address: v.optional(v.object({ city: v.string() })),
          });
          router.post('/v1/profile', { body: Body }, (http) => {
            seen.push(http.state.body);
            http.status = 204;
          });
          router.post('/v1/profile/raw', {}, (http) => {
            seen.push(http.state.body);
            http.status = 204;
          });
        },
      });
      const k = await createTestKernel({ plugins: [profile], database: 'pglite' });
      try {
        const post = (url: string, payload: unknown) => k.inject({ method: 'POST', url, payload: payload as Record<string, unknown> });
        assert.equal((await post('/v1/profile', { name: 'Ada', bio: 'first line\n\tsecond line\r\nthird' })).statusCode, 204);
        const cases: [unknown, string[]][] = [
          [{ name: 'A\nda' }, ['name']],
          [{ name: 'Ada', bio: 'nul \u0000 here' }, ['bio']],
          [{ name: 'Ada', bio: 'bare \r return' }, ['bio']],
          [{ name: 'Ada', links: ['https://ok.test', 'https://bad.test/\u001b'] }, ['links.1']],
          [{ name: 'Ada\u007f', address: { city: 'Par\u0000is' } }, ['name', 'address.city']],
        ];
        for (const [payload, paths] of cases) {
          const problem = expectProblem(await post('/v1/profile', payload), 422, 'validation_failed');
          assert.deepEqual(problem.errors?.map((e) => e.path), paths, JSON.stringify(payload));
        }
        // A route without a schema gets the same check on whatever JSON it receives.
        const raw = expectProblem(await post('/v1/profile/raw', { deep: [{ text: 'a\u0000' }] }), 422, 'validation_failed');
        assert.deepEqual(raw.errors?.map((e) => e.path), ['deep.0.text']);
        assert.equal(seen.length, 1, 'no refused body reached a handler');
      } finally {
        await k.close();
      }
    });
  });

  describe('2. routes that work without a session are limited per address, whatever token they carry', () => {
    let limited: TestKernel;
    let token: string;
    let refreshToken: string;
    const policy = { limit: 3, windowSeconds: 600 };

    before(async () => {
      limited = await createTestKernel({
        plugins: [
          authPlugin,
          configure(emailPlugin, { transport: 'outbox', outboxDir }),
          configure(ratelimitPlugin, {
            backend: 'memory',
            defaultPolicy: policy,
            policies: { 'auth.login': policy, 'auth.register': policy, 'auth.forgot-password': policy, 'auth.resend-verification': policy },
          }),
        ],
        env: { JWT_SECRET },
      });
      const email = freshEmail('limited');
      await limited.inject({ method: 'POST', url: '/v1/auth/register', payload: { email, password: PASSWORD, displayName: 'L' }, remoteAddress: '192.0.2.1' });
      await limited.kernel.database.orm.em.getConnection().execute('update auth_users set email_verified_at = now()');
      const pair = (await limited.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password: PASSWORD }, remoteAddress: '192.0.2.2' })).json();
      token = pair.accessToken;
      refreshToken = pair.refreshToken;
      assert.ok(token);
    });
    after(async () => {
      await limited?.close();
    });

    const routes: [string, string, () => Record<string, unknown>][] = [
      ['/v1/auth/login', 'auth.login', () => ({ email: freshEmail('victim'), password: 'some guess or other' })],
      ['/v1/auth/register', 'auth.register', () => ({ email: freshEmail('reg'), password: PASSWORD, displayName: 'R' })],
      ['/v1/auth/forgot-password', 'auth.forgot-password', () => ({ email: freshEmail('victim') })],
      ['/v1/auth/resend-verification', 'auth.resend-verification', () => ({ email: freshEmail('victim') })],
      ['/v1/auth/verify-email', 'default', () => ({ token: 'not-a-token' })],
      ['/v1/auth/reset-password', 'default', () => ({ token: 'not-a-token', password: PASSWORD })],
      ['/v1/auth/refresh', 'default', () => ({ refreshToken: 'not-a-token' })],
    ];
    routes.forEach(([url, group, payload], i) => {
      it(`${url}: a valid bearer token buys no new budget once the address reached the limit`, async () => {
        const remoteAddress = `198.51.100.${10 + i}`;
        for (let n = 0; n < policy.limit; n++) {
          const res = await limited.inject({ method: 'POST', url, payload: payload(), remoteAddress });
          assert.notEqual(res.statusCode, 429, `attempt ${n + 1} is within the budget`);
        }
        const anonymous = await limited.inject({ method: 'POST', url, payload: payload(), remoteAddress });
        expectProblem(anonymous, 429, 'rate_limited');
        const withToken = await limited.inject({ method: 'POST', url, payload: payload(), remoteAddress, headers: { authorization: `Bearer ${token}` } });
        expectProblem(withToken, 429, 'rate_limited');
        assert.match(String(withToken.headers.ratelimit), new RegExp(`^"${group.replace('.', '\\.')}";r=0;`));
      });
    });

    it('authenticated routes are still limited per user, so a user behind an exhausted address has a budget', async () => {
      const remoteAddress = '198.51.100.99';
      for (let n = 0; n <= policy.limit; n++) await limited.inject({ method: 'POST', url: '/v1/auth/verify-email', payload: { token: 'x' }, remoteAddress });
      expectProblem(await limited.inject({ method: 'POST', url: '/v1/auth/verify-email', payload: { token: 'x' }, remoteAddress }), 429, 'rate_limited');
      const me = await limited.inject({ url: '/v1/me', remoteAddress, headers: { authorization: `Bearer ${token}` } });
      assert.equal(me.statusCode, 200, me.body);
      assert.ok(refreshToken);
    });
  });

  describe('3. a slow body is cut off with its connection at the time budget', () => {
    it('answers 503 request_timeout with Connection: close and closes the socket while the client keeps trickling', async () => {
      const slow = await createTestKernel({
        plugins: [authPlugin, configure(emailPlugin, { transport: 'outbox', outboxDir })],
        env: { JWT_SECRET },
        http: { requestTimeoutMs: 600 },
      });
      const running = await serve(slow.kernel, { port: 0, host: '127.0.0.1', shutdownTimeoutMs: 1000 });
      const port = new URL(running.url).port;
      const socket = connect({ host: '127.0.0.1', port: Number(port) });
      let trickle: ReturnType<typeof setInterval> | undefined;
      try {
        const received: Buffer[] = [];
        socket.on('data', (chunk) => received.push(chunk));
        const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now())));
        socket.on('error', () => {}); // a reset after the answer is a way of closing too
        await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
        socket.write(
          'POST /v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100000\r\nConnection: keep-alive\r\n\r\n{',
        );
        // One byte every 100 ms, for as long as the socket lets us.
        trickle = setInterval(() => {
          if (!socket.destroyed && socket.writable) socket.write('"');
        }, 100);
        const answered = await new Promise<number>((resolve, reject) => {
          const check = setInterval(() => {
            if (Buffer.concat(received).includes('\r\n\r\n')) {
              clearInterval(check);
              resolve(Date.now());
            }
          }, 10);
          setTimeout(() => {
            clearInterval(check);
            reject(new Error('no answer within 5 s'));
          }, 5000);
        });
        const head = Buffer.concat(received).toString('latin1');
        assert.match(head, /^HTTP\/1\.1 503 /);
        assert.match(head, /\r\nconnection: close\r\n/i);
        const closedAt = await Promise.race([closed, new Promise<number>((resolve) => setTimeout(() => resolve(-1), 3000))]);
        assert.notEqual(closedAt, -1, 'the server closed the socket while the client was still sending');
        assert.ok(closedAt - answered < 3000);
        assert.match(Buffer.concat(received).toString('utf8'), /"code":"request_timeout"/);
      } finally {
        clearInterval(trickle);
        socket.destroy();
        await running.shutdown('test over');
        await slow.close();
      }
    });
  });

  describe('4. access tokens must carry every claim we issue', () => {
    const key = new TextEncoder().encode(JWT_SECRET);
    let userId: string;
    let sessionId: string;

    before(async () => {
      const pair = (await t.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: existing, password: PASSWORD } })).json();
      const [, payload] = String(pair.accessToken).split('.');
      const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8')) as { sub: string; sid: string; iss: string };
      userId = claims.sub;
      sessionId = claims.sid;
    });

    const forge = (omit: string) => {
      const claims: Record<string, unknown> = { sid: sessionId, role: 'artist' };
      if (omit === 'sid') delete claims.sid;
      if (omit === 'role') delete claims.role;
      const jwt = new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' });
      if (omit !== 'sub') jwt.setSubject(userId);
      if (omit !== 'iss') jwt.setIssuer('empulse');
      if (omit !== 'aud') jwt.setAudience('empulse');
      if (omit !== 'iat') jwt.setIssuedAt();
      if (omit !== 'exp') jwt.setExpirationTime('10m');
      return jwt.sign(key);
    };

    it('a forged token with every claim works (so the refusals below are about the missing claim)', async () => {
      const res = await t.inject({ url: '/v1/me', headers: { authorization: `Bearer ${await forge('nothing')}` } });
      assert.equal(res.statusCode, 200, res.body);
    });

    for (const claim of ['exp', 'iat', 'iss', 'aud', 'sub', 'sid', 'role']) {
      it(`refuses a correctly signed token without "${claim}" with 401 unauthenticated`, async () => {
        const res = await t.inject({ url: '/v1/me', headers: { authorization: `Bearer ${await forge(claim)}` } });
        expectProblem(res, 401, 'unauthenticated');
        assert.match(String(res.headers['www-authenticate']), /^Bearer/);
      });
    }
  });

  describe('an unknown method', () => {
    it('answers 501 and is logged as the client’s mistake: no error line, no stack', async () => {
      const logs = captureLogger('debug');
      const k = await createTestKernel({ plugins: [authPlugin, configure(emailPlugin, { transport: 'outbox', outboxDir })], env: { JWT_SECRET }, logger: logs.logger });
      try {
        for (const method of ['TRACE', 'PROPFIND']) {
          const res = await k.inject({ method: method as 'GET', url: '/v1/me' });
          expectProblem(res, 501, 'not_implemented');
        }
        const lines = logs.lines.filter((l) => l.method === 'TRACE' || l.method === 'PROPFIND' || l.msg === 'request failed');
        assert.equal(lines.length, 2, JSON.stringify(lines));
        for (const line of lines) {
          assert.ok(line.level !== 'error' && line.level !== 'fatal', `logged below error: ${JSON.stringify(line)}`);
          assert.equal(line.err, undefined);
        }
        assert.doesNotMatch(logs.text(), /"stack"/);
      } finally {
        await k.close();
      }
    });
  });
});
