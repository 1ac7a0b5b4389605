/**
 * The health plugin (API.md, "health plugin"): liveness, readiness with one report per registered
 * check, the registry's per-check deadline, degraded checks, credentials kept out of the report,
 * and readiness turning 503 as soon as shutdown begins while liveness keeps answering.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { configure, definePlugin, type CheckOutcome } from '../core/index.ts';
import { healthPlugin } from '../plugins/health/index.ts';
import { createTestKernel, testDatabaseAdminUrl, type TestKernel } from '../host/testing.ts';

type Behaviour =
  | { readonly kind: 'ok' }
  | { readonly kind: 'fail'; readonly message: string }
  | { readonly kind: 'hang' }
  | { readonly kind: 'degraded'; readonly reason: string };

interface Probe {
  behaviour: Behaviour;
  /** The signal the registry handed to the latest run of the check. */
  lastSignal: AbortSignal | undefined;
  calls: number;
}

/** A plugin with one readiness check (`upstream`) whose outcome the test switches. */
function probePlugin() {
  const probe: Probe = { behaviour: { kind: 'ok' }, lastSignal: undefined, calls: 0 };
  const plugin = definePlugin({
    id: 'probe',
    version: '1.0.0',
    health: {
      upstream: async (_ctx, signal): Promise<CheckOutcome> => {
        probe.calls++;
        probe.lastSignal = signal;
        const b = probe.behaviour;
        if (b.kind === 'fail') throw new Error(b.message);
        if (b.kind === 'hang') return new Promise<never>(() => {});
        if (b.kind === 'degraded') return { degraded: b.reason };
      },
    },
  });
  return { plugin, probe };
}

/** Clears the recorded signal (a function, so the compiler does not narrow the field to undefined). */
function forgetSignal(probe: Probe): void {
  probe.lastSignal = undefined;
}

interface CheckJson {
  status: string;
  latencyMs: unknown;
  error?: unknown;
}
interface ReadyJson {
  status: string;
  checks: Record<string, CheckJson>;
}

const assertCheckShape = (check: CheckJson | undefined, name: string): CheckJson => {
  assert.ok(check, `the report has a "${name}" check`);
  assert.equal(typeof check.latencyMs, 'number', `${name}.latencyMs is a number`);
  assert.ok((check.latencyMs as number) >= 0);
  return check;
};

describe('health plugin', () => {
  let t: TestKernel;
  const { plugin, probe } = probePlugin();

  before(async () => {
    // Every probe runs the checks here: these tests switch the check's outcome between probes.
    t = await createTestKernel({ plugins: [configure(healthPlugin, { readinessCacheMs: 0 }), plugin] });
  });
  after(() => t?.close());

  it('GET /health/live answers 200 {status: "ok"}', async () => {
    const res = await t.inject({ url: '/health/live' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    assert.deepEqual(res.json(), { status: 'ok' });
  });

  it('GET /health/ready answers 200 with a passing database check', async () => {
    probe.behaviour = { kind: 'ok' };
    const res = await t.inject({ url: '/health/ready' });
    assert.equal(res.statusCode, 200, res.body);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    const body = res.json() as ReadyJson;
    assert.equal(body.status, 'ok');
    const db = assertCheckShape(body.checks.database, 'database');
    assert.equal(db.status, 'ok');
    assert.equal(db.error, undefined, 'a passing check carries no error');
    assert.equal(assertCheckShape(body.checks.upstream, 'upstream').status, 'ok');
  });

  it("answers 503 with status 'fail' when a plugin's check fails, and 200 again once it passes", async () => {
    probe.behaviour = { kind: 'fail', message: 'upstream refused the connection' };
    const res = await t.inject({ url: '/health/ready' });
    assert.equal(res.statusCode, 503, res.body);
    const body = res.json() as ReadyJson;
    assert.equal(body.status, 'fail');
    const upstream = assertCheckShape(body.checks.upstream, 'upstream');
    assert.equal(upstream.status, 'fail');
    assert.equal(upstream.error, 'upstream refused the connection');
    assert.equal(assertCheckShape(body.checks.database, 'database').status, 'ok', 'the other checks are still reported');

    probe.behaviour = { kind: 'ok' };
    const recovered = await t.inject({ url: '/health/ready' });
    assert.equal(recovered.statusCode, 200, recovered.body);
    assert.equal((recovered.json() as ReadyJson).status, 'ok');
  });

  it('fails a check that hangs once the registry timeout is over, and aborts its signal', async () => {
    probe.behaviour = { kind: 'hang' };
    forgetSignal(probe);
    const res = await t.inject({ url: '/health/ready' });
    assert.equal(res.statusCode, 503, res.body);
    const body = res.json() as ReadyJson;
    assert.equal(body.status, 'fail');
    const upstream = assertCheckShape(body.checks.upstream, 'upstream');
    assert.equal(upstream.status, 'fail');
    assert.match(String(upstream.error), /timed out/);
    assert.equal(probe.lastSignal?.aborted, true, 'the hung check is told to give up');
    assert.equal(assertCheckShape(body.checks.database, 'database').status, 'ok');
    probe.behaviour = { kind: 'ok' };
  });

  it("keeps 200 for a check that reports { degraded } and shows it as 'degraded'", async () => {
    probe.behaviour = { kind: 'degraded', reason: 'shared backend down; limiting in memory' };
    const res = await t.inject({ url: '/health/ready' });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json() as ReadyJson;
    assert.notEqual(body.status, 'fail');
    const upstream = assertCheckShape(body.checks.upstream, 'upstream');
    assert.equal(upstream.status, 'degraded');
    assert.ok(JSON.stringify(upstream).includes('shared backend down; limiting in memory'), 'the reason is shown');
    probe.behaviour = { kind: 'ok' };
  });

  it('shows a failing check whose error quotes a URL with credentials without the credentials', async () => {
    for (const [url, secrets] of [
      ['redis://default:hunter2secret@cache.internal:6379/0', ['hunter2secret', 'default:']],
      ['postgresql://app_user:p%40ss%2Fw0rd@db.internal:5432/app', ['p%40ss', 'app_user']],
      ['https://:tok3n-only@api.example.com/v1', ['tok3n-only']],
    ] as const) {
      probe.behaviour = { kind: 'fail', message: `connect ECONNREFUSED while reaching ${url} (retrying)` };
      const res = await t.inject({ url: '/health/ready' });
      assert.equal(res.statusCode, 503);
      for (const secret of secrets) assert.ok(!res.body.includes(secret), `"${secret}" must not appear in ${res.body}`);
      const error = String((res.json() as ReadyJson).checks.upstream?.error);
      assert.match(error, /ECONNREFUSED/, 'the rest of the message is kept');
      assert.ok(error.includes(new URL(url).host), 'the host is still shown, so the operator knows what failed');
    }
    probe.behaviour = { kind: 'ok' };
  });

  it('shows a degraded reason that quotes a URL with credentials without the credentials', async () => {
    probe.behaviour = { kind: 'degraded', reason: 'redis://default:hunter2secret@cache.internal:6379 unreachable; limiting in memory' };
    const res = await t.inject({ url: '/health/ready' });
    assert.equal(res.statusCode, 200);
    assert.ok(!res.body.includes('hunter2secret'), `the password must not appear in ${res.body}`);
    assert.ok(res.body.includes('cache.internal'));
    probe.behaviour = { kind: 'ok' };
  });
});

describe('health plugin: readiness at most readinessCacheMs old', () => {
  let t: TestKernel;
  const { plugin, probe } = probePlugin();

  before(async () => {
    t = await createTestKernel({ plugins: [configure(healthPlugin, { readinessCacheMs: 400 }), plugin] });
  });
  after(() => t?.close());

  it('runs the checks once for the probes of one window, shares a run in flight, and sees a change after the window', async () => {
    probe.calls = 0;
    for (let i = 0; i < 10; i++) assert.equal((await t.inject({ url: '/health/ready' })).statusCode, 200);
    assert.equal(probe.calls, 1, 'ten probes in one window: one run of the checks');

    probe.behaviour = { kind: 'fail', message: 'upstream went away' };
    assert.equal((await t.inject({ url: '/health/ready' })).statusCode, 200, 'within the window the last answer stands');
    await new Promise((r) => setTimeout(r, 450));
    const together = await Promise.all(Array.from({ length: 10 }, () => t.inject({ url: '/health/ready' })));
    assert.deepEqual(new Set(together.map((r) => r.statusCode)), new Set([503]));
    assert.equal(probe.calls, 2, 'ten probes at once after the window: one shared run');
    assert.equal((together[0]!.json() as ReadyJson).checks.upstream?.error, 'upstream went away');

    probe.behaviour = { kind: 'ok' };
    await new Promise((r) => setTimeout(r, 450));
    assert.equal((await t.inject({ url: '/health/ready' })).statusCode, 200);
    assert.equal(probe.calls, 3);
  });

  it('answers 503 at once when shutdown begins, whatever it answered a moment ago', async () => {
    assert.equal((await t.inject({ url: '/health/ready' })).statusCode, 200);
    t.kernel.beginShutdown();
    assert.equal((await t.inject({ url: '/health/ready' })).statusCode, 503);
  });
});

describe('health plugin during shutdown', () => {
  let t: TestKernel;
  const { plugin, probe } = probePlugin();

  before(async () => {
    t = await createTestKernel({ plugins: [healthPlugin, plugin] });
  });
  after(() => t?.close());

  it('answers ready 503 as soon as shutdown begins, while live still answers 200', async () => {
    const before = await t.inject({ url: '/health/ready' });
    assert.equal(before.statusCode, 200, before.body);

    t.kernel.beginShutdown();
    const ready = await t.inject({ url: '/health/ready' });
    assert.equal(ready.statusCode, 503, ready.body);
    assert.equal((ready.json() as ReadyJson).status, 'fail');

    const live = await t.inject({ url: '/health/live' });
    assert.equal(live.statusCode, 200);
    assert.deepEqual(live.json(), { status: 'ok' });
  });

  it('answers ready 503 during shutdown without waiting for a hanging check', async () => {
    assert.equal(t.kernel.isDraining(), true);
    probe.behaviour = { kind: 'hang' };
    forgetSignal(probe);
    const ready = await t.inject({ url: '/health/ready' });
    assert.equal(ready.statusCode, 503, ready.body);
    // The registry aborts a check's signal only when its deadline passes: an aborted signal here
    // means readiness sat out the whole check timeout before saying what it already knew.
    assert.notEqual(
      probe.lastSignal?.aborted,
      true,
      `readiness waited for the hanging check's timeout before answering 503: ${ready.body}`,
    );
  });
});

describe('health plugin when the database goes away', () => {
  let t: TestKernel;

  before(async () => {
    t = await createTestKernel({ plugins: [configure(healthPlugin, { readinessCacheMs: 0 })], database: 'postgresql' });
  });
  after(() => t?.close());

  it("answers ready 503 with the database check failing, while live still answers 200", async () => {
    assert.equal((await t.inject({ url: '/health/ready' })).statusCode, 200);
    const database = t.database;
    assert.ok(database.driver === 'postgresql', 'this test needs PostgreSQL');
    const name = new URL(database.url).pathname.slice(1);
    const admin = new pg.Client({ connectionString: testDatabaseAdminUrl() });
    await admin.connect();
    try {
      await admin.query(`drop database if exists ${name} with (force)`);
    } finally {
      await admin.end();
    }
    const ready = await t.inject({ url: '/health/ready' });
    assert.equal(ready.statusCode, 503, ready.body);
    const body = ready.json() as ReadyJson;
    assert.equal(body.status, 'fail');
    const db = assertCheckShape(body.checks.database, 'database');
    assert.equal(db.status, 'fail');
    assert.equal(typeof db.error, 'string');
    assert.ok((db.error as string).length > 0);
    assert.equal((await t.inject({ url: '/health/live' })).statusCode, 200);
  });
});
