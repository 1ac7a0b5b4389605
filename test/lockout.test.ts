/**
 * The lockout plugin through HTTP, on real PostgreSQL with real email delivery: the count is
 * exact under 50 parallel failures, a lock answers 423 with Retry-After even for the right
 * password, success resets, a password reset clears, one email per lockout, growth, admin unlock,
 * and two kernels on one database share the counters.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { configure, definePlugin } from '../core/index.ts';
import { lockoutServiceRef, type LockoutService } from '../plugins/lockout/contract.ts';
import { createScratchDatabase, createTestKernel, type TestKernel } from '../host/testing.ts';
import { authPlugin } from '../plugins/auth/index.ts';
import { emailPlugin } from '../plugins/email/index.ts';
import { lockoutPlugin } from '../plugins/lockout/index.ts';
import { expectProblem } from './support/expect-problem.ts';
import { linkToken, startMailbox, type Mailbox } from './support/mailbox.ts';

const APP = 'https://app.empulse.test';
const JWT_SECRET = 'lockout-test-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const PASSWORD = 'correct horse battery staple';

describe('lockout plugin', () => {
  let mailbox: Mailbox;
  let t: TestKernel;
  let lockout: LockoutService;
  const admin = definePlugin({
    id: 'admin-probe',
    version: '1.0.0',
    requires: { lockout: lockoutServiceRef },
    init(ctx) {
      lockout = ctx.services.lockout;
    },
  });
  const plugins = (m: Mailbox) => [
    authPlugin,
    configure(emailPlugin, { transport: 'smtp', smtpUrl: m.url, publicAppUrl: APP, pollIntervalMs: 50, retryBaseDelayMs: 20 }),
    configure(lockoutPlugin, { threshold: 5, lockSeconds: 60, growthFactor: 2, maxLockSeconds: 300 }),
    admin,
  ];

  before(async () => {
    mailbox = await startMailbox();
    t = await createTestKernel({ plugins: plugins(mailbox), env: { JWT_SECRET } });
  });
  after(async () => {
    await t.close();
    await mailbox.close();
  });

  const login = (email: string, password: string) => t.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password } });
  const registerVerified = async (email: string) => {
    assert.equal((await t.inject({ method: 'POST', url: '/v1/auth/register', payload: { email, password: PASSWORD, displayName: 'L' } })).statusCode, 202);
    const token = linkToken(await mailbox.waitFor(email, /Confirm your email/), APP, '/verify-email');
    assert.equal((await t.inject({ method: 'POST', url: '/v1/auth/verify-email', payload: { token } })).statusCode, 200);
  };

  it('locks after exactly the threshold under 50 parallel wrong passwords, then refuses even the right one', async () => {
    const email = 'parallel@example.test';
    await registerVerified(email);
    const answers = await Promise.all(Array.from({ length: 50 }, () => login(email, 'wrong password entirely')));
    const statuses = answers.map((r) => r.statusCode);
    assert.equal(statuses.filter((s) => s === 401).length, 5, `exactly 5 passwords checked: ${statuses.join(',')}`);
    assert.equal(statuses.filter((s) => s === 423).length, 45);
    const locked = await login(email, PASSWORD);
    expectProblem(locked, 423, 'account_locked');
    const retryAfter = Number(locked.headers['retry-after']);
    assert.ok(retryAfter > 0 && retryAfter <= 60, `Retry-After ${retryAfter}`);
    const status = await lockout.status(email);
    assert.ok(status.lockedUntil);
    // One "locked" email for this lockout, however many attempts hit it.
    await mailbox.waitFor(email, /is paused/);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(mailbox.all(email, /is paused/).length, 1);
  });

  it('lets 20 parallel logins with the right password all in (in turns), with no lock', async () => {
    const email = 'parallel-right@example.test';
    await registerVerified(email);
    const answers = await Promise.all(Array.from({ length: 20 }, () => login(email, PASSWORD)));
    assert.deepEqual(new Set(answers.map((r) => r.statusCode)), new Set([200]));
    assert.equal((await lockout.status(email)).lockedUntil, undefined);
  });

  it('locks unknown emails the same way, without sending anyone an email', async () => {
    const email = 'nobody-here@example.test';
    for (let i = 0; i < 5; i++) expectProblem(await login(email, 'whatever password'), 401, 'invalid_credentials');
    expectProblem(await login(email, 'whatever password'), 423, 'account_locked');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(mailbox.all(email).length, 0);
  });

  it('resets the count on a successful login', async () => {
    const email = 'resets@example.test';
    await registerVerified(email);
    for (let i = 0; i < 4; i++) assert.equal((await login(email, 'not the password')).statusCode, 401);
    assert.equal((await login(email, PASSWORD)).statusCode, 200);
    for (let i = 0; i < 4; i++) assert.equal((await login(email, 'not the password')).statusCode, 401);
    assert.equal((await login(email, PASSWORD)).statusCode, 200, 'four more failures after a success do not lock');
  });

  it('clears the lock when the password is reset', async () => {
    const email = 'reset-clears@example.test';
    await registerVerified(email);
    for (let i = 0; i < 5; i++) await login(email, 'not the password');
    expectProblem(await login(email, PASSWORD), 423, 'account_locked');
    assert.equal((await t.inject({ method: 'POST', url: '/v1/auth/forgot-password', payload: { email } })).statusCode, 202);
    const token = linkToken(await mailbox.waitFor(email, /reset/i), APP, '/reset-password');
    const newPassword = 'a brand new passphrase 42';
    assert.equal((await t.inject({ method: 'POST', url: '/v1/auth/reset-password', payload: { token, password: newPassword } })).statusCode, 204);
    await t.kernel.hooksSettled();
    assert.equal((await login(email, newPassword)).statusCode, 200);
  });

  it('lets an admin unlock an identifier, and makes repeated lockouts longer', async () => {
    const email = 'grows@example.test';
    await registerVerified(email);
    for (let i = 0; i < 5; i++) await login(email, 'not the password');
    const first = (await lockout.status(email)).lockedUntil!;
    assert.ok(first.getTime() - Date.now() <= 60_000);
    await lockout.unlock(email);
    assert.equal((await lockout.status(email)).lockedUntil, undefined);
    assert.equal((await login(email, PASSWORD)).statusCode, 200);
    // Lock, expire the lock by hand (no waiting), lock again: the second lasts twice as long.
    for (let i = 0; i < 5; i++) await login(email, 'not the password');
    await t.kernel.database.orm.em
      .getConnection()
      .execute("update lockout_counters set locked_until = now() - interval '1 second' where identifier = ?", [email]);
    for (let i = 0; i < 5; i++) await login(email, 'not the password');
    const second = Number((await login(email, PASSWORD)).headers['retry-after']);
    assert.ok(second > 60 && second <= 120, `second lockout Retry-After ${second}`);
  });

  it('forgets failures once their window is over, and caps a lockout at maxLockSeconds', async () => {
    const email = 'window@example.test';
    await registerVerified(email);
    const age = (sql: string) => t.kernel.database.orm.em.getConnection().execute(sql, [email]);
    for (let i = 0; i < 4; i++) assert.equal((await login(email, 'not the password')).statusCode, 401);
    assert.equal((await lockout.status(email)).failures, 4);
    // The window (15 minutes by default) started two hours ago: the fifth failure starts a new one.
    await age("update lockout_counters set window_started_at = now() - interval '2 hours' where identifier = ?");
    assert.equal((await login(email, 'not the password')).statusCode, 401);
    assert.deepEqual([(await lockout.status(email)).failures, (await lockout.status(email)).lockedUntil], [1, undefined]);
    // The 5001st lockout in a row would last 60 × 2⁵⁰⁰⁰ s (past any float): maxLockSeconds caps it at 300.
    await age('update lockout_counters set lockouts_in_a_row = 5000 where identifier = ?');
    for (let i = 0; i < 4; i++) await login(email, 'not the password');
    const retryAfter = Number((await login(email, PASSWORD)).headers['retry-after']);
    assert.ok(retryAfter > 240 && retryAfter <= 300, `capped lockout Retry-After ${retryAfter}`);
  });

  it('forgets slots left by attempts that never settled, once no attempt has touched them for a minute', async () => {
    const email = 'left@example.test';
    await registerVerified(email);
    // Five reservations whose settlement never came (a crash, or the database away at the time).
    await t.kernel.database.orm.em
      .getConnection()
      .execute(
        "insert into lockout_counters (identifier, pending, window_started_at, updated_at) values (?, 5, now(), now() - interval '2 minutes')",
        [email],
      );
    assert.equal((await login(email, PASSWORD)).statusCode, 200, 'not kept waiting by slots nobody holds');
  });

  it('counts and locks the same way on the embedded database, and opens sessions there', async () => {
    const embedded = await createTestKernel({ plugins: plugins(mailbox), env: { JWT_SECRET }, database: 'pglite' });
    try {
      const email = 'embedded@example.test';
      const answers = await Promise.all(
        Array.from({ length: 12 }, () => embedded.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password: 'no such account' } })),
      );
      assert.deepEqual(
        answers.map((a) => a.statusCode).sort(),
        [...Array<number>(5).fill(401), ...Array<number>(7).fill(423)],
      );
      // A successful login there too: its session is opened and checked on the embedded database.
      const member = 'embedded-member@example.test';
      assert.equal((await embedded.inject({ method: 'POST', url: '/v1/auth/register', payload: { email: member, password: PASSWORD, displayName: 'E' } })).statusCode, 202);
      const token = linkToken(await mailbox.waitFor(member, /Confirm your email/), APP, '/verify-email');
      assert.equal((await embedded.inject({ method: 'POST', url: '/v1/auth/verify-email', payload: { token } })).statusCode, 200);
      const login = await embedded.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: member, password: PASSWORD } });
      assert.equal(login.statusCode, 200, login.body);
      const { accessToken, refreshToken } = login.json() as { accessToken: string; refreshToken: string };
      assert.equal((await embedded.inject({ method: 'GET', url: '/v1/me', headers: { authorization: `Bearer ${accessToken}` } })).statusCode, 200);
      assert.equal((await embedded.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refreshToken } })).statusCode, 200);
    } finally {
      await embedded.close();
    }
  });

  it('shares counters between two instances on one database', async () => {
    const db = await createScratchDatabase();
    const database = { driver: 'postgresql' as const, url: db.url };
    const a = await createTestKernel({ plugins: plugins(mailbox), env: { JWT_SECRET }, database });
    const b = await createTestKernel({ plugins: plugins(mailbox), env: { JWT_SECRET }, database });
    try {
      const email = 'two-instances@example.test';
      const tries = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password: 'nope nope nope' } })),
      );
      assert.equal(tries.filter((r) => r.statusCode === 401).length, 5);
      expectProblem(await a.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password: 'nope nope nope' } }), 423, 'account_locked');
      expectProblem(await b.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password: 'nope nope nope' } }), 423, 'account_locked');
    } finally {
      await a.close();
      await b.close();
      await db.drop();
    }
  });

  it('is optional: without it, auth never answers 423', async () => {
    const plain = await createTestKernel({
      plugins: [authPlugin, configure(emailPlugin, { transport: 'smtp', smtpUrl: mailbox.url, publicAppUrl: APP })],
      env: { JWT_SECRET },
    });
    try {
      const statuses = await Promise.all(
        Array.from({ length: 12 }, () => plain.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: 'x@example.test', password: 'nope nope nope' } })),
      );
      assert.deepEqual(new Set(statuses.map((r) => r.statusCode)), new Set([401]));
    } finally {
      await plain.close();
    }
  });

  it('deletes expired counters in the background', async () => {
    const db = await createScratchDatabase();
    const k = await createTestKernel({
      plugins: [authPlugin, configure(emailPlugin, { transport: 'smtp', smtpUrl: mailbox.url, publicAppUrl: APP }), configure(lockoutPlugin, { cleanupIntervalSeconds: 1 })],
      env: { JWT_SECRET },
      database: { driver: 'postgresql', url: db.url },
    });
    try {
      const conn = k.kernel.database.orm.em.getConnection();
      await conn.execute(
        `insert into lockout_counters (identifier, failures, window_started_at, updated_at) values
           ('old@example.test', 3, now() - interval '2 hours', now()),
           ('fresh@example.test', 3, now(), now()),
           ('locked@example.test', 0, now() - interval '2 hours', now())`,
      );
      await conn.execute("update lockout_counters set locked_until = now() + interval '1 hour' where identifier = 'locked@example.test'");
      const deadline = Date.now() + 5000;
      let left: string[] = [];
      do {
        await new Promise((r) => setTimeout(r, 200));
        left = ((await conn.execute('select identifier from lockout_counters order by identifier')) as { identifier: string }[]).map((r) => r.identifier);
      } while (left.includes('old@example.test') && Date.now() < deadline);
      assert.deepEqual(left, ['fresh@example.test', 'locked@example.test'], 'only the expired, unlocked counter is gone');
    } finally {
      await k.close();
      await db.drop();
    }
  });
});
