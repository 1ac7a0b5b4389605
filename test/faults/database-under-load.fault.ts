/**
 * PostgreSQL stopped mid-load and started again, against the real server process: 50 clients
 * register, log in, refresh sessions and fail logins while `pg_ctl stop -m fast` runs, then `pg_ctl
 * start`. Every request is answered (2xx or the expected 4xx, or 503 with Retry-After) within
 * its budget; afterwards every 202 registration exists and got exactly one email, every session
 * still refreshes with the last token its client holds, and the lockout counted exactly the
 * failures it answered 401 for.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmpulseServer, type EmpulseServer } from '../support/empulse-server.ts';
import { startMailbox, type Mailbox } from '../support/mailbox.ts';
import { projectImport } from '../support/paths.ts';
import { startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres.ts';
import { until } from '../support/until.ts';
import { reportFault } from './fault-summary.ts';
import { clients, send, sleep, Tally, type Answer } from './load.ts';

const PASSWORD = 'correct horse battery staple';
const CONFIG = `import { configure, defineConfig } from '${projectImport('core/index.ts')}';
import { healthPlugin } from '${projectImport('plugins/health/index.ts')}';
import { emailPlugin } from '${projectImport('plugins/email/index.ts')}';
import { authPlugin } from '${projectImport('plugins/auth/index.ts')}';
import { lockoutPlugin } from '${projectImport('plugins/lockout/index.ts')}';
// A threshold no client reaches here: every wrong password is counted, none locks.
export default defineConfig({ plugins: [healthPlugin, emailPlugin, authPlugin, configure(lockoutPlugin, { threshold: 100000 })], outages: { summaryIntervalMs: 1000 } });
`;

describe('PostgreSQL stopped mid-load', () => {
  let pg: PrivatePostgres;
  let mailbox: Mailbox;
  let dir: string;
  let server: EmpulseServer;

  before(async () => {
    pg = await startPrivatePostgres();
    pg.createDatabase('app');
    mailbox = await startMailbox();
    dir = await mkdtemp(join(tmpdir(), 'empulse-fault-'));
    await writeFile(join(dir, 'package.json'), '{ "type": "module" }\n');
    await writeFile(join(dir, 'empulse.config.ts'), CONFIG);
    server = await startEmpulseServer({
      cwd: dir,
      env: {
        DATABASE_URL: pg.urlOf('app'),
        DATA_DIR: join(dir, '.empulse'),
        JWT_SECRET: 'fault-suite-secret-0123456789-abcdefghijklmnopqrstuvwxyz',
        EMAIL_TRANSPORT: 'smtp',
        SMTP_URL: mailbox.url,
        PUBLIC_APP_URL: 'https://app.empulse.test',
        DATABASE_POOL_MAX: '10',
      },
    });
  });
  after(async () => {
    await server?.kill();
    await mailbox?.close();
    pg?.destroy();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('answers every request, loses no registration, mail, session or failure count', async () => {
    const url = server.url;
    // 15 verified accounts with a session each, for the refreshing clients.
    const sessions: string[] = [];
    for (let i = 0; i < 15; i++) {
      const email = `session-${i}@example.test`;
      assert.equal((await send(`${url}/v1/auth/register`, { body: { email, password: PASSWORD, displayName: 'S' } })).status, 202);
    }
    pg.psql("update auth_users set email_verified_at = now() where email_normalized like 'session-%'", 'app');
    for (let i = 0; i < 15; i++) {
      const login = await send(`${url}/v1/auth/login`, { body: { email: `session-${i}@example.test`, password: PASSWORD } });
      assert.equal(login.status, 200, JSON.stringify(login.body));
      sessions.push((login.body as { refreshToken: string }).refreshToken);
    }

    const tally = new Tally();
    const registered: string[] = [];
    const failuresAnswered = new Map<string, number>();
    const lostSessions: Answer[] = [];
    const load = clients(50, async (i, stopped) => {
      for (let n = 0; !stopped(); n++) {
        if (i >= 25 && i < 30) {
          const a = await send(`${url}/v1/auth/login`, { body: { email: `session-${i - 25}@example.test`, password: PASSWORD } });
          tally.count(a, (x) => x.status === 200);
        } else if (i < 30) {
          const email = `load-${i}-${n}@example.test`;
          const a = await send(`${url}/v1/auth/register`, { body: { email, password: PASSWORD, displayName: 'L' } });
          tally.count(a, (x) => x.status === 202);
          if (a.status === 202) registered.push(email);
        } else if (i < 45) {
          const s = i - 30;
          const a = await send(`${url}/v1/auth/refresh`, { body: { refreshToken: sessions[s] } });
          tally.count(a, (x) => x.status === 200);
          if (a.status === 200) sessions[s] = (a.body as { refreshToken: string }).refreshToken;
          else if (a.status !== 503) lostSessions.push(a);
        } else {
          const email = `wrong-${i}@example.test`;
          const a = await send(`${url}/v1/auth/login`, { body: { email, password: 'not the password at all' } });
          tally.count(a, (x) => x.status === 401 && x.code === 'invalid_credentials');
          if (a.status === 401) failuresAnswered.set(email, (failuresAnswered.get(email) ?? 0) + 1);
        }
        if (tally.requests % 50 === 0) await sleep(1); // let the timers of this process run
      }
    });
    await sleep(2000);
    const stoppedAt = Date.now();
    pg.stop('fast');
    await sleep(3000);
    pg.start();
    const outageMs = Date.now() - stoppedAt;
    await sleep(3000);
    load.stop();
    await load.done;

    assert.deepEqual(tally.unexpected.slice(0, 5), [], `unexpected answers (${tally.unexpected.length})`);
    assert.ok((tally.byOutcome['503 service_unavailable'] ?? 0) > 0, `the outage was felt: ${JSON.stringify(tally.byOutcome)}`);
    assert.ok(tally.slowestMs < 30_000, `slowest answer ${tally.slowestMs} ms, past the 30 s budget`);

    // Every 202 registration exists, and got its one email once the outbox caught up.
    const inDb = new Set(pg.psql("select email_normalized from auth_users where email_normalized like 'load-%'", 'app').split('\n').filter(Boolean));
    const missingRows = registered.filter((e) => !inDb.has(e));
    await until('every registration email', () => registered.every((e) => mailbox.all(e, /Confirm your email|already/).length > 0), 60_000).catch(() => undefined);
    const missingMail = registered.filter((e) => mailbox.all(e).length === 0);
    const doubleMail = registered.filter((e) => mailbox.all(e).length > 1);

    // Each session still refreshes with the last token its client was given.
    for (const token of sessions) {
      const a = await send(`${url}/v1/auth/refresh`, { body: { refreshToken: token } });
      if (a.status !== 200) lostSessions.push(a);
    }
    // The lockout counted exactly the failures it answered 401 for.
    const counted = new Map(
      pg
        .psql("select identifier, failures from lockout_counters where identifier like 'wrong-%'", 'app')
        .split('\n')
        .filter(Boolean)
        .map((line) => line.split('|') as [string, string]),
    );
    const miscounted = [...failuresAnswered].filter(([email, n]) => Number(counted.get(email) ?? 0) !== n);

    const outageLogs = server.logs.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('database is unavailable'));
    const faults = server.logs.filter((l) => l.msg === 'request failed');
    const losses = missingRows.length + missingMail.length + doubleMail.length + lostSessions.length + miscounted.length;
    reportFault({
      scenario: 'PostgreSQL stopped mid-load (server)',
      injected: `pg_ctl stop -m fast after 2 s under 50 clients, pg_ctl start ${outageMs} ms later`,
      requests: tally.requests,
      outcomes: tally.byOutcome,
      losses,
      notes: `${registered.length} registrations, ${sessions.length} sessions, slowest ${Math.round(tally.slowestMs)} ms, ${outageLogs.length} outage error line(s), ${faults.length} request faults`,
    });
    assert.deepEqual({ missingRows, missingMail, doubleMail, lostSessions: lostSessions.map((a) => `${a.status} ${a.code}`), miscounted }, {
      missingRows: [],
      missingMail: [],
      doubleMail: [],
      lostSessions: [],
      miscounted: [],
    });
    assert.equal(faults.length, 0, 'no request logged as a fault (500)');
    assert.ok(outageLogs.length >= 1 && outageLogs.length <= 2, `outage logged once (per outage), got ${outageLogs.length}`);
  });
});
