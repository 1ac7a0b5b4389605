/**
 * The metrics plugin through HTTP, on real PostgreSQL with real SMTP delivery: the token rules
 * (404 unset, 401 without or with a wrong one), series labelled by route pattern and never by
 * raw path, and the series the other plugins publish through the `metrics` service (logins,
 * lockouts, rate-limit decisions, email deliveries and outbox, uploads, the database pool).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configure, coreServices, definePlugin, type ResponseObservation } from '../core/index.ts';
import { createTestKernel, type TestKernel } from '../host/testing.ts';
import { authPlugin } from '../plugins/auth/index.ts';
import { emailPlugin } from '../plugins/email/index.ts';
import { lockoutPlugin } from '../plugins/lockout/index.ts';
import { metricsServiceRef, type MetricsService } from '../plugins/metrics/contract.ts';
import { metricsPlugin } from '../plugins/metrics/index.ts';
import { ratelimitPlugin } from '../plugins/ratelimit/index.ts';
import { storageServiceRef } from '../plugins/storage/contract.ts';
import { storagePlugin } from '../plugins/storage/index.ts';
import { captureLogger } from './support/capture-logger.ts';
import { expectProblem } from './support/expect-problem.ts';
import { linkToken, startMailbox, type Mailbox } from './support/mailbox.ts';

const TOKEN = 'metrics-test-token-0123456789-abcdefghijklmnop';
const JWT_SECRET = 'metrics-test-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const APP = 'https://app.empulse.test';
const PASSWORD = 'correct horse battery staple';

/** The value of one series line (`name{labels} value`), or undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(match[3]);
  }
  return undefined;
}

describe('metrics plugin: GET /metrics', () => {
  let mailbox: Mailbox;
  let t: TestKernel;
  let storageDir: string;
  let mailboxOpen = true;

  before(async () => {
    mailbox = await startMailbox();
    storageDir = mkdtempSync(join(tmpdir(), 'empulse-metrics-'));
    t = await createTestKernel({
      plugins: [
        configure(metricsPlugin, { token: TOKEN }),
        authPlugin,
        configure(emailPlugin, { transport: 'smtp', smtpUrl: mailbox.url, publicAppUrl: APP, pollIntervalMs: 50 }),
        configure(lockoutPlugin, { threshold: 3, lockSeconds: 60 }),
        configure(ratelimitPlugin, { backend: 'memory', policies: { 'auth.register': { limit: 2, windowSeconds: 60 } } }),
        configure(storagePlugin, { driver: 'local', dir: storageDir, signingKey: 'metrics-test-storage-signing-key-0123456789' }),
      ],
      env: { JWT_SECRET },
    });
  });
  after(async () => {
    await t.close();
    if (mailboxOpen) await mailbox.close();
    rmSync(storageDir, { recursive: true, force: true });
  });

  const scrape = async () => {
    const res = await t.inject({ url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(res.statusCode, 200, res.body);
    return res.body;
  };

  it('answers 401 with WWW-Authenticate without the token or with a wrong one, and never says which part was wrong', async () => {
    for (const authorization of [undefined, 'Bearer wrong-token', `Basic ${TOKEN}`, `Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`]) {
      const res = await t.inject({ url: '/metrics', headers: authorization === undefined ? {} : { authorization } });
      expectProblem(res, 401, 'unauthenticated');
      assert.match(String(res.headers['www-authenticate']), /^Bearer realm="metrics"/);
      assert.ok(!res.body.includes(TOKEN.slice(0, 12)), 'the answer never echoes the token');
    }
  });

  it('serves the Prometheus text format with the token, uncached', async () => {
    const res = await t.inject({ url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.match(res.body, /^# HELP http_requests_total /m);
    assert.match(res.body, /^# TYPE http_request_duration_seconds histogram$/m);
    // Node's process series (prom-client's defaults).
    assert.ok(sample(res.body, 'process_cpu_user_seconds_total')! >= 0);
    assert.ok(sample(res.body, 'nodejs_heap_size_used_bytes')! > 0);
  });

  it('labels requests by route pattern and status, never by raw path', async () => {
    const id = '01936b7e-0000-7000-8000-00000000beef';
    for (let i = 0; i < 3; i++) await t.inject({ url: `/v1/auth/sessions/${id}`, method: 'DELETE' });
    await t.inject({ url: '/no/such/path/secret-looking-abc123' });
    const text = await scrape();
    assert.equal(sample(text, 'http_requests_total', { method: 'DELETE', route: '/v1/auth/sessions/:id', status: '401' }), 3);
    assert.equal(sample(text, 'http_request_duration_seconds_count', { method: 'DELETE', route: '/v1/auth/sessions/:id', status: '401' }), 3);
    assert.ok(sample(text, 'http_request_duration_seconds_bucket', { route: '/v1/auth/sessions/:id', le: '+Inf' })! >= 3);
    assert.equal(sample(text, 'http_requests_total', { method: 'GET', route: '(unmatched)', status: '404' }), 1);
    assert.ok(!text.includes(id), 'a raw id never becomes a label');
    assert.ok(!text.includes('secret-looking-abc123'), 'an unmatched raw path never becomes a label');
    // The scrapes themselves are counted under their own pattern.
    assert.ok(sample(text, 'http_requests_total', { method: 'GET', route: '/metrics', status: '200' })! >= 1);
  });

  it('counts login outcomes, lockouts, rate-limit decisions and email deliveries', async () => {
    const email = 'metrics-login@example.test';
    const registered = await t.inject({ method: 'POST', url: '/v1/auth/register', payload: { email, password: PASSWORD, displayName: 'M' } });
    assert.equal(registered.statusCode, 202);
    const token = linkToken(await mailbox.waitFor(email, /Confirm your email/), APP, '/verify-email');
    assert.equal((await t.inject({ method: 'POST', url: '/v1/auth/verify-email', payload: { token } })).statusCode, 200);
    const login = (password: string) => t.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password } });
    assert.equal((await login(PASSWORD)).statusCode, 200);
    for (let i = 0; i < 3; i++) expectProblem(await login('wrong password entirely'), 401, 'invalid_credentials');
    expectProblem(await login(PASSWORD), 423, 'account_locked');
    // The register group allows 2 per minute (a sliding window: across a window's edge one more
    // may pass), so of four more registrations at least one is limited; each decision is counted.
    const statuses = [(await t.inject({ method: 'POST', url: '/v1/auth/register', payload: { email, password: PASSWORD, displayName: 'M' } })).statusCode];
    for (const name of ['other', 'third', 'fourth']) {
      const res = await t.inject({ method: 'POST', url: '/v1/auth/register', payload: { email: `${name}@example.test`, password: PASSWORD, displayName: 'O' } });
      statuses.push(res.statusCode);
    }
    // (The first registration above, before this batch, was allowed too.)
    const allowed = 1 + statuses.filter((s) => s === 202).length;
    const limited = statuses.filter((s) => s === 429).length;
    assert.ok(limited >= 1, `limited: ${statuses.join(',')}`);
    assert.equal(allowed + limited, 5, `only 202 or 429: ${statuses.join(',')}`);
    await mailbox.waitFor(email, /is paused/);

    const text = await scrape();
    assert.equal(sample(text, 'empulse_auth_logins_total', { outcome: 'succeeded' }), 1);
    assert.equal(sample(text, 'empulse_auth_logins_total', { outcome: 'invalid_credentials' }), 3);
    assert.equal(sample(text, 'empulse_auth_logins_total', { outcome: 'refused' }), 1);
    assert.equal(sample(text, 'empulse_lockout_locks_total'), 1);
    assert.equal(sample(text, 'empulse_ratelimit_decisions_total', { group: 'auth.register', decision: 'allowed' }), allowed);
    assert.equal(sample(text, 'empulse_ratelimit_decisions_total', { group: 'auth.register', decision: 'limited' }), limited);
    assert.equal(sample(text, 'empulse_ratelimit_backend_up', { backend: 'memory' }), 1);
    assert.ok(sample(text, 'empulse_email_deliveries_total', { transport: 'smtp', outcome: 'sent' })! >= 2, 'the confirmation and the lockout email');
    assert.equal(sample(text, 'empulse_email_outbox_pending') !== undefined, true);
  });

  it('counts uploads, their bytes and durations, stored or failed', async () => {
    const storage = t.service(storageServiceRef);
    const bytes = new Uint8Array(1000).fill(7);
    await storage.put(new Blob([bytes]).stream(), { key: storage.newKey('metrics', 'bin'), contentType: 'application/octet-stream', visibility: 'private', maxBytes: 5000 });
    await assert.rejects(
      storage.put(new Blob([bytes]).stream(), { key: storage.newKey('metrics', 'bin'), contentType: 'application/octet-stream', visibility: 'private', maxBytes: 10 }),
    );
    const text = await scrape();
    assert.equal(sample(text, 'empulse_storage_uploads_total', { driver: 'local', outcome: 'stored' }), 1);
    assert.equal(sample(text, 'empulse_storage_uploads_total', { driver: 'local', outcome: 'failed' }), 1);
    assert.equal(sample(text, 'empulse_storage_upload_bytes_total', { driver: 'local' }), 1000);
    assert.equal(sample(text, 'empulse_storage_upload_duration_seconds_count', { driver: 'local', outcome: 'stored' }), 1);
  });

  it('reports the database pool on PostgreSQL (none on the embedded database)', async () => {
    const text = await scrape();
    if (t.database.driver !== 'postgresql') {
      assert.equal(sample(text, 'empulse_db_pool_connections', { state: 'max' }), undefined, 'the embedded database has no pool');
      return;
    }
    assert.equal(sample(text, 'empulse_db_pool_connections', { state: 'max' }), 5);
    const busy = sample(text, 'empulse_db_pool_connections', { state: 'busy' })!;
    const idle = sample(text, 'empulse_db_pool_connections', { state: 'idle' })!;
    assert.ok(busy >= 0 && idle >= 0 && busy + idle >= 1 && busy + idle <= 5, `busy ${busy}, idle ${idle}`);
    assert.equal(sample(text, 'empulse_db_pool_waiting'), 0);
  });

  it('shows the outbox backlog while the SMTP server is down, and retries as they happen', async () => {
    await mailbox.close();
    mailboxOpen = false;
    await t.inject({ method: 'POST', url: '/v1/auth/forgot-password', payload: { email: 'metrics-login@example.test' } });
    let text = '';
    for (let i = 0; i < 100; i++) {
      text = await scrape();
      if ((sample(text, 'empulse_email_deliveries_total', { transport: 'smtp', outcome: 'retry' }) ?? 0) >= 1) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(sample(text, 'empulse_email_deliveries_total', { transport: 'smtp', outcome: 'retry' })! >= 1, text);
    assert.ok(sample(text, 'empulse_email_outbox_pending')! >= 1);
    assert.ok(sample(text, 'empulse_email_outbox_oldest_pending_seconds')! >= 0);
  });
});

describe('metrics plugin: without a token, and for plugin authors', () => {
  it('answers 404 not_found when METRICS_TOKEN is unset, whatever is sent', async () => {
    const t = await createTestKernel({ plugins: [metricsPlugin], database: 'pglite' });
    try {
      expectProblem(await t.inject({ url: '/metrics' }), 404, 'not_found');
      expectProblem(await t.inject({ url: '/metrics', headers: { authorization: 'Bearer anything-at-all-here' } }), 404, 'not_found');
    } finally {
      await t.close();
    }
  });

  it('reads METRICS_TOKEN from the environment and refuses a short one', async () => {
    const t = await createTestKernel({ plugins: [metricsPlugin], database: 'pglite', env: { METRICS_TOKEN: TOKEN } });
    try {
      assert.equal((await t.inject({ url: '/metrics', headers: { authorization: `bearer ${TOKEN}` } })).statusCode, 200);
    } finally {
      await t.close();
    }
    await assert.rejects(createTestKernel({ plugins: [metricsPlugin], database: 'pglite', env: { METRICS_TOKEN: 'short' } }), /METRICS_TOKEN|token.*16/);
  });

  it('lets a plugin publish its own series; a failing collect is logged and the scrape still answers', async () => {
    let metrics!: MetricsService;
    const extension = definePlugin({
      id: 'extension',
      version: '1.0.0',
      requires: { metrics: metricsServiceRef },
      init(ctx) {
        metrics = ctx.services.metrics;
        const plays = metrics.counter({ name: 'extension_plays_total', help: 'Plays', labelNames: ['kind'] });
        plays.inc({ kind: 'stream' }, 3);
        metrics.histogram({ name: 'extension_size_bytes', help: 'Sizes', buckets: [10, 100] }).observe({}, 50);
        metrics.gauge({ name: 'extension_queue', help: 'Fails to read', collect: () => Promise.reject(new Error('queue unreachable')) });
        metrics.gauge({ name: 'extension_ready', help: 'Reads', collect: (g) => g.set({}, 42) });
      },
    });
    const logs = captureLogger();
    const t = await createTestKernel({ plugins: [configure(metricsPlugin, { token: TOKEN, processMetrics: false }), extension], database: 'pglite', logger: logs.logger });
    try {
      const res = await t.inject({ url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } });
      assert.equal(res.statusCode, 200);
      assert.equal(sample(res.body, 'extension_plays_total', { kind: 'stream' }), 3);
      assert.equal(sample(res.body, 'extension_size_bytes_bucket', { le: '100' }), 1);
      assert.equal(sample(res.body, 'extension_size_bytes_bucket', { le: '10' }), 0);
      assert.equal(sample(res.body, 'extension_ready'), 42);
      assert.equal(sample(res.body, 'process_cpu_user_seconds_total'), undefined, 'processMetrics: false leaves out the process series');
      assert.ok(logs.lines.some((l) => l.msg === 'a metric could not be collected' && l.metric === 'extension_queue'));
      assert.throws(() => metrics.counter({ name: 'extension_plays_total', help: 'again' }), /registered twice/);
      assert.throws(() => metrics.counter({ name: 'bad name', help: 'x' }), /not a Prometheus name/);
      const counter = metrics.counter({ name: 'extension_late_total', help: 'x', labelNames: ['kind'] });
      assert.throws(() => counter.inc({ kind: 'a' }, -1), /only goes up/);
      assert.throws(() => counter.inc({} as { kind: string }), /label "kind" has no value/);
      assert.throws(() => metrics.histogram({ name: 'extension_unsorted', help: 'x', buckets: [5, 1] }), /buckets must ascend/);
      assert.throws(() => metrics.histogram({ name: 'extension_nan', help: 'x', buckets: [1] }).observe({}, Number.NaN), /not a finite number/);
    } finally {
      await t.close();
    }
  });
});

describe('core: response observers (what the metrics plugin builds on)', () => {
  it('sees each answer with its route pattern and plugin; a throwing observer is logged and the answer stands', async () => {
    const seen: ResponseObservation[] = [];
    const probe = definePlugin({
      id: 'probe',
      version: '1.0.0',
      requires: { http: coreServices.http },
      prefixes: ['/v1/probe'],
      init(ctx) {
        ctx.services.http.observeResponses((o) => seen.push(o));
        ctx.services.http.observeResponses(() => {
          throw new Error('observer bug');
        });
      },
      routes(router) {
        router.get('/v1/probe/:name', (http) => {
          http.body = { ok: true };
        });
      },
    });
    const logs = captureLogger();
    const t = await createTestKernel({ plugins: [probe], database: 'pglite', logger: logs.logger });
    try {
      assert.equal((await t.inject({ url: '/v1/probe/abc' })).statusCode, 200);
      expectProblem(await t.inject({ url: '/v1/elsewhere' }), 404, 'not_found');
      expectProblem(await t.inject({ method: 'DELETE', url: '/v1/probe/abc' }), 405, 'method_not_allowed');
      assert.deepEqual(
        seen.map(({ method, route, plugin, status }) => ({ method, route, plugin, status })),
        [
          { method: 'GET', route: '/v1/probe/:name', plugin: 'probe', status: 200 },
          { method: 'GET', route: undefined, plugin: undefined, status: 404 },
          { method: 'DELETE', route: undefined, plugin: undefined, status: 405 },
        ],
      );
      assert.ok(seen.every((o) => o.durationSeconds >= 0 && o.durationSeconds < 60));
      assert.equal(logs.lines.filter((l) => l.msg === 'response observer failed').length, 3);
    } finally {
      await t.close();
    }
  });
});
