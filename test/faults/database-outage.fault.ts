/**
 * PostgreSQL stopped for real (a private cluster: test/support/private-postgres.ts) under a
 * kernel with auth, email and lockout: requests answer 503 service_unavailable with Retry-After
 * (not 500), readiness fails, the outage is logged once and summarised, and everything works
 * again when the server is back, without a restart. An exhausted pool answers the same 503 after
 * DATABASE_POOL_TIMEOUT_MS instead of holding the request.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { configure } from '../../core/index.ts';
import { createTestKernel, type TestKernel } from '../../host/testing.ts';
import { authPlugin } from '../../plugins/auth/index.ts';
import { emailPlugin } from '../../plugins/email/index.ts';
import { healthPlugin } from '../../plugins/health/index.ts';
import { lockoutPlugin } from '../../plugins/lockout/index.ts';
import { captureLogger, type CapturedLogs } from '../support/capture-logger.ts';
import { expectProblem } from '../support/expect-problem.ts';
import { startMailbox, type Mailbox } from '../support/mailbox.ts';
import { startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres.ts';
import { until } from '../support/until.ts';
import { reportFault } from './fault-summary.ts';

const APP = 'https://app.empulse.test';
const JWT_SECRET = 'database-outage-test-secret-0123456789-abcdefghijklmnop';
const PASSWORD = 'correct horse battery staple';

describe('database outage', () => {
  let pg: PrivatePostgres;
  let mailbox: Mailbox;
  let logs: CapturedLogs;
  let t: TestKernel;

  before(async () => {
    pg = await startPrivatePostgres();
    pg.createDatabase('app');
    mailbox = await startMailbox();
    logs = captureLogger('info');
    t = await createTestKernel({
      plugins: [
        healthPlugin,
        authPlugin,
        configure(emailPlugin, { transport: 'smtp', smtpUrl: mailbox.url, publicAppUrl: APP, pollIntervalMs: 50, retryBaseDelayMs: 20 }),
        lockoutPlugin,
      ],
      env: { JWT_SECRET },
      database: { driver: 'postgresql', url: pg.urlOf('app'), poolMax: 3, acquireTimeoutMs: 400 },
      logger: logs.logger,
      outages: { summaryIntervalMs: 300 },
    });
  });
  after(async () => {
    await t?.close();
    await mailbox?.close();
    pg?.destroy();
  });

  const register = (email: string) => t.inject({ method: 'POST', url: '/v1/auth/register', payload: { email, password: PASSWORD, displayName: 'Outage' } });
  const outageLines = () => logs.lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('database is unavailable'));

  it('answers 503 service_unavailable with Retry-After while PostgreSQL is stopped, logs it once, and recovers without a restart', async () => {
    assert.equal((await register('before@example.test')).statusCode, 202);
    pg.stop('fast');
    // Readiness serves a result at most a second old (readinessCacheMs): past that, it fails.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const ready = await t.inject({ method: 'GET', url: '/health/ready' });
    assert.equal(ready.statusCode, 503, ready.body);
    assert.equal((ready.json() as { checks: { database: { status: string } } }).checks.database.status, 'fail');
    assert.equal((await t.inject({ method: 'GET', url: '/health/live' })).statusCode, 200);

    const answers = await Promise.all([
      ...Array.from({ length: 8 }, (_, i) => register(`during-${i}@example.test`)),
      ...Array.from({ length: 4 }, () => t.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: 'before@example.test', password: PASSWORD } })),
      ...Array.from({ length: 4 }, () => t.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refreshToken: 'A'.repeat(43) } })),
    ]);
    for (const res of answers) {
      const problem = expectProblem(res, 503, 'service_unavailable');
      assert.equal(res.headers['retry-after'], '5');
      // The dependency is named in the log, never in the body.
      const body = JSON.stringify(problem);
      assert.doesNotMatch(body, /database|postgres|ECONN|127\.0\.0\.1/i);
      assert.ok(!body.includes(`:${pg.port}`), body);
    }
    assert.equal(outageLines().length, 1, 'one error line for the whole outage');
    assert.equal(outageLines()[0]!.level, 'error');
    assert.equal(logs.lines.filter((l) => l.msg === 'request failed').length, 0, 'no request is logged as a fault');
    assert.ok(!logs.text().includes('"stack"'), 'no stack trace logged for an outage');

    pg.start();
    const back = await until('a registration to succeed again', async () => ((await register('after@example.test')).statusCode === 202 ? true : undefined), 15_000);
    assert.ok(back);
    const recovered = await until('the outage summary', () => logs.lines.find((l) => l.msg === 'database is available again'));
    assert.ok(Number(recovered.refused) >= answers.length, `refused ${String(recovered.refused)}`);
    // Readiness passes again once its cached failure (at most readinessCacheMs old) has expired.
    await until('readiness to pass again', async () => (await t.inject({ method: 'GET', url: '/health/ready' })).statusCode === 200, 3000);
    // Mail queued before the outage and after it is delivered; nothing was queued for the 503s.
    await mailbox.waitFor('before@example.test', /Confirm your email/);
    await mailbox.waitFor('after@example.test', /Confirm your email/);
    assert.equal(mailbox.received.filter((m) => m.rcpt.some((to) => to.startsWith('during-'))).length, 0);
    const rows = pg.psql("select count(*) from auth_users where email_normalized like 'during-%'", 'app').trim();
    assert.equal(rows, '0', 'no half-written account');
    reportFault({
      scenario: 'PostgreSQL stopped (kernel)',
      injected: 'pg_ctl stop -m fast, 16 requests, pg_ctl start',
      requests: answers.length,
      outcomes: { '503 service_unavailable': answers.length },
      losses: 0,
    });
  });

  it('answers 503 service_unavailable when every pooled connection stays busy, after the acquire timeout, not at the time budget', async () => {
    // Three connections (the pool's max) held by sleeping queries.
    const sleeps = Array.from({ length: 3 }, (_, i) => t.kernel.database.query({ name: `fault_sleep_${i}`, text: 'select pg_sleep(3)' }, []));
    await until('the pool to be full', () => t.kernel.database.poolStats()?.idle === 0 && t.kernel.database.poolStats()!.total === 3);
    const res = await register('pool@example.test');
    expectProblem(res, 503, 'service_unavailable');
    assert.equal(res.headers['retry-after'], '5');
    await Promise.all(sleeps);
    assert.equal((await register('pool-after@example.test')).statusCode, 202);
  });
});
