/**
 * The ratelimit plugin through HTTP: memory limits with IETF headers and 429s, operator
 * overrides, exempt health probes, two instances sharing one real Redis, and the fallback to
 * memory limits (with readiness "degraded") when Redis is unreachable.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { configure, definePlugin } from '../core/index.ts';
import { createScratchDatabase, createTestKernel, type TestKernel } from '../host/testing.ts';
import { healthPlugin } from '../plugins/health/index.ts';
import { ratelimitPlugin } from '../plugins/ratelimit/index.ts';
import { rateLimit } from '../plugins/ratelimit/contract.ts';
import { authPlugin } from '../plugins/auth/index.ts';
import { emailPlugin } from '../plugins/email/index.ts';
import { lockoutPlugin } from '../plugins/lockout/index.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureLogger } from './support/capture-logger.ts';
import { expectProblem } from './support/expect-problem.ts';
import { startUpstashRest } from './support/upstash-rest.ts';

const REDIS_URL = process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379';

/** A plugin whose group name is unique per test run, so Redis keys never collide between runs. */
function limitedPlugin(group: string) {
  return definePlugin({
    id: 'limited',
    version: '1.0.0',
    routes(router) {
      router.get('/v1/limited/strict', { auth: 'optional', meta: [rateLimit({ group, limit: 3, windowSeconds: 60 })] }, (http) => {
        http.body = { ok: true };
      });
      router.get('/v1/limited/open', (http) => {
        http.body = { ok: true };
      });
    },
  });
}

const get = (t: TestKernel, url: string, ip = '198.51.100.1') => t.inject({ url, remoteAddress: ip });

describe('ratelimit plugin', () => {
  const kernels: TestKernel[] = [];
  after(async () => {
    for (const k of kernels) await k.close();
  });
  const boot = async (...args: Parameters<typeof createTestKernel>) => {
    const k = await createTestKernel(...args);
    kernels.push(k);
    return k;
  };

  it('answers 429 rate_limited with Retry-After and RateLimit headers over the limit (memory)', async () => {
    const group = `g${randomBytes(4).toString('hex')}`;
    const t = await boot({ plugins: [healthPlugin, ratelimitPlugin, limitedPlugin(group)] });
    const remaining: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await get(t, '/v1/limited/strict');
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['ratelimit-policy'], `"${group}";q=3;w=60`);
      remaining.push(String(res.headers.ratelimit));
    }
    assert.deepEqual(remaining.map((r) => /;r=(\d+);/.exec(r)![1]), ['2', '1', '0']);
    const limited = await get(t, '/v1/limited/strict');
    expectProblem(limited, 429, 'rate_limited');
    const retryAfter = Number(limited.headers['retry-after']);
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
    assert.match(String(limited.headers.ratelimit), new RegExp(`^"${group}";r=0;t=\\d+$`));
    // Another client has its own budget; health probes are never limited nor labelled.
    assert.equal((await get(t, '/v1/limited/strict', '198.51.100.2')).statusCode, 200);
    const probe = await get(t, '/health/live');
    assert.equal(probe.statusCode, 200);
    assert.equal(probe.headers['ratelimit-policy'], undefined);
    // Routes without a declaration fall in the default group.
    assert.equal((await get(t, '/v1/limited/open')).headers['ratelimit-policy'], '"default";q=600;w=60');
  });

  it('lets the operator override a group', async () => {
    const group = `g${randomBytes(4).toString('hex')}`;
    const t = await boot({ plugins: [configure(ratelimitPlugin, { policies: { [group]: { limit: 1 } } }), limitedPlugin(group)] });
    assert.equal((await get(t, '/v1/limited/strict')).statusCode, 200);
    expectProblem(await get(t, '/v1/limited/strict'), 429, 'rate_limited');
  });

  it('shares one limit between two instances through one Redis', async () => {
    const group = `g${randomBytes(4).toString('hex')}`;
    const db = await createScratchDatabase();
    try {
      const plugins = [configure(ratelimitPlugin, { backend: 'redis', redisUrl: REDIS_URL }), limitedPlugin(group)];
      const a = await boot({ plugins, database: { driver: 'postgresql', url: db.url } });
      const b = await boot({ plugins, database: { driver: 'postgresql', url: db.url } });
      const statuses = [];
      for (const t of [a, b, a, b]) statuses.push((await get(t, '/v1/limited/strict')).statusCode);
      assert.deepEqual(statuses, [200, 200, 200, 429]);
    } finally {
      for (const k of kernels.splice(-2)) await k.close();
      await db.drop();
    }
  });

  it('says in production that memory limits are per process, and says nothing of it elsewhere', async () => {
    for (const mode of ['production', 'test'] as const) {
      const logs = captureLogger('info');
      await boot({ plugins: [configure(ratelimitPlugin, { backend: 'memory' })], mode, logger: logs.logger });
      const warned = logs.lines.filter((l) => l.level === 'warn' && String(l.msg).includes('kept in this process\'s memory'));
      assert.equal(warned.length, mode === 'production' ? 1 : 0, logs.text());
      if (mode === 'production') assert.match(String(warned[0]!.msg), /set REDIS_URL/);
    }
  });

  it('warns about a policy for a group no route declares, suggesting the nearest one', async () => {
    const group = `g${randomBytes(4).toString('hex')}`;
    const logs = captureLogger('info');
    await boot({
      plugins: [configure(ratelimitPlugin, { backend: 'memory', policies: { [`${group}x`]: { limit: 1 }, [group]: { limit: 1 }, 'not-even-close': { limit: 1 } } }), limitedPlugin(group)],
      logger: logs.logger,
    });
    const warnings = logs.lines.filter((l) => l.level === 'warn' && String(l.msg).startsWith('policies['));
    assert.deepEqual(
      warnings.map((l) => l.msg),
      [
        `policies["${group}x"]: no enabled route is in the rate-limit group "${group}x", so this policy changes nothing (did you mean "${group}"?)`,
        'policies["not-even-close"]: no enabled route is in the rate-limit group "not-even-close", so this policy changes nothing',
      ],
    );
  });

  it('keeps limiting in memory when Redis is unreachable, and says so in readiness', async () => {
    const group = `g${randomBytes(4).toString('hex')}`;
    const t = await boot({
      plugins: [configure(healthPlugin, { readinessCacheMs: 0 }), configure(ratelimitPlugin, { backend: 'redis', redisUrl: 'redis://127.0.0.1:1', timeoutMs: 100 }), limitedPlugin(group)],
    });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await get(t, '/v1/limited/strict')).statusCode);
    assert.deepEqual(statuses, [200, 200, 200, 429], 'never unlimited when the shared backend fails');
    const ready = await t.inject({ url: '/health/ready' });
    assert.equal(ready.statusCode, 200);
    const check = ready.json().checks.ratelimit;
    assert.equal(check.status, 'degraded');
    // Names the address that refused and why, not ioredis's internals.
    assert.match(check.error, /^Redis at 127\.0\.0\.1:1 is unreachable \(connect ECONNREFUSED 127\.0\.0\.1:1\); limits enforced in memory$/);
  });

  it('with the default policies, five mistyped passwords get 423 from lockout, and hammering gets 429', async () => {
    const outboxDir = mkdtempSync(join(tmpdir(), 'empulse-rl-'));
    try {
      const t = await boot({
        plugins: [authPlugin, configure(emailPlugin, { transport: 'outbox', outboxDir }), lockoutPlugin, ratelimitPlugin],
        env: { JWT_SECRET: 'ratelimit-test-secret-0123456789-abcdefghijklmnop' },
      });
      const login = () => t.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: 'typo@example.test', password: 'mistyped password' }, remoteAddress: '203.0.113.7' });
      const first = [];
      for (let i = 0; i < 6; i++) first.push((await login()).statusCode);
      assert.deepEqual(first, [401, 401, 401, 401, 401, 423]);
      const loginPolicy = String((await login()).headers['ratelimit-policy']);
      assert.match(loginPolicy, /^"auth\.login";q=20;w=300$/);
      const rest = [];
      for (let i = 0; i < 20; i++) rest.push((await login()).statusCode);
      assert.ok(rest.includes(429), `hammering one address ends in 429: ${rest.join(',')}`);
      const forgot = [];
      for (let i = 0; i < 12; i++) {
        forgot.push((await t.inject({ method: 'POST', url: '/v1/auth/forgot-password', payload: { email: 'x@example.test' }, remoteAddress: '203.0.113.8' })).statusCode);
      }
      assert.deepEqual(forgot.slice(0, 10), Array(10).fill(202));
      assert.deepEqual(forgot.slice(10), [429, 429]);
    } finally {
      for (const k of kernels.splice(-1)) await k.close();
      rmSync(outboxDir, { recursive: true, force: true });
    }
  });

  it('shares one limit through Upstash REST, and falls back to memory when it goes away', async () => {
    const group = `g${randomBytes(4).toString('hex')}`;
    const upstash = await startUpstashRest({ token: 'test-token' });
    const db = await createScratchDatabase();
    try {
      const plugins = [
        configure(healthPlugin, { readinessCacheMs: 0 }),
        configure(ratelimitPlugin, { backend: 'upstash', upstashUrl: upstash.url, upstashToken: 'test-token', timeoutMs: 500 }),
        limitedPlugin(group),
      ];
      const a = await boot({ plugins, database: { driver: 'postgresql', url: db.url } });
      const b = await boot({ plugins, database: { driver: 'postgresql', url: db.url } });
      const statuses = [];
      for (const t of [a, b, a, b]) statuses.push((await get(t, '/v1/limited/strict')).statusCode);
      assert.deepEqual(statuses, [200, 200, 200, 429]);
      assert.ok(upstash.requests > 0, 'the limits went through the Upstash REST endpoint');
      await upstash.close();
      const other = '198.51.100.9';
      const fallback = [];
      for (let i = 0; i < 4; i++) fallback.push((await get(a, '/v1/limited/strict', other)).statusCode);
      assert.deepEqual(fallback, [200, 200, 200, 429], 'still limited, in memory');
      const ready = await a.inject({ url: '/health/ready' });
      assert.equal(ready.statusCode, 200);
      assert.equal(ready.json().checks.ratelimit.status, 'degraded');
    } finally {
      for (const k of kernels.splice(-2)) await k.close();
      await upstash.close().catch(() => undefined);
      await db.drop();
    }
  });

  it('keys authenticated requests per user, so users behind one address have their own budgets', async () => {
    const group = `g${randomBytes(4).toString('hex')}`;
    const outboxDir = mkdtempSync(join(tmpdir(), 'empulse-rl-'));
    try {
      const t = await boot({
        plugins: [authPlugin, configure(emailPlugin, { transport: 'outbox', outboxDir }), ratelimitPlugin, limitedPlugin(group)],
        env: { JWT_SECRET: 'ratelimit-test-secret-0123456789-abcdefghijklmnop' },
      });
      const tokens: string[] = [];
      for (const email of ['one@example.test', 'two@example.test']) {
        const password = 'correct horse battery staple';
        assert.equal((await t.inject({ method: 'POST', url: '/v1/auth/register', payload: { email, password, displayName: 'U' } })).statusCode, 202);
        await t.kernel.database.orm.em.getConnection().execute('update auth_users set email_verified_at = now()');
        tokens.push((await t.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password } })).json().accessToken);
      }
      const call = (token: string) => t.inject({ url: '/v1/limited/strict', remoteAddress: '203.0.113.50', headers: { authorization: `Bearer ${token}` } });
      const first = [];
      for (let i = 0; i < 4; i++) first.push((await call(tokens[0]!)).statusCode);
      assert.deepEqual(first, [200, 200, 200, 429]);
      assert.equal((await call(tokens[1]!)).statusCode, 200, 'the second user, same address, has a budget of their own');
    } finally {
      for (const k of kernels.splice(-1)) await k.close();
      rmSync(outboxDir, { recursive: true, force: true });
    }
  });
});
