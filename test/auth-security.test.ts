/**
 * The auth plugin's security properties over real parts (PostgreSQL, SMTP): no secret at rest,
 * in a response or in a log line; the extension points other plugins use (login gates, hooks,
 * guards, revokeAllSessions) through the public API only; the cap on concurrent argon2 hashes.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type { InjectOptions, Response } from 'light-my-request';
import { configure, definePlugin, HttpProblem, type PayloadOf } from '../core/index.ts';
import { authHooks, authServiceRef, type AuthService, type LoginAttempt, type LoginOutcome } from '../plugins/auth/contract.ts';
import { createTestKernel, type TestKernel } from '../host/testing.ts';
import { authPlugin } from '../plugins/auth/index.ts';
import { emailPlugin } from '../plugins/email/index.ts';
import { captureLogger } from './support/capture-logger.ts';
import { linkToken, startMailbox, type Mailbox } from './support/mailbox.ts';
import { expectProblem } from './support/expect-problem.ts';

const APP = 'https://app.empulse.test';
const JWT_SECRET = 'security-test-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const PASSWORD = 'correct horse battery staple';
const REFRESH_COOKIE = '__Secure-empulse_refresh';

interface TokenPair {
  accessToken: string;
  refreshToken: string;
  user: { id: string; email: string; role: string };
}

const sha256Hex = (text: string) => createHash('sha256').update(text).digest('hex');
const newEmail = (label: string) => `${label}-${randomBytes(5).toString('hex')}@example.test`;
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const emailOptions = (mailbox: Mailbox) =>
  configure(emailPlugin, { transport: 'smtp', smtpUrl: mailbox.url, publicAppUrl: APP, pollIntervalMs: 50, retryBaseDelayMs: 20 });


// ---- Test plugins: they use only the public API (core/index.ts), as third-party plugins do. ----

const LOCKED = newEmail('locked');
let auth: AuthService | undefined;
const authService = () => auth ?? assert.fail('the gatekeeper plugin has not initialised');
const gateCalls: { phase: 'before' | 'after'; attempt: LoginAttempt; outcome?: LoginOutcome }[] = [];

const gatekeeper = definePlugin({
  id: 'gatekeeper',
  version: '1.0.0',
  requires: { auth: authServiceRef },
  init(ctx) {
    auth = ctx.services.auth;
    ctx.services.auth.addLoginGate({
      name: 'test-lock',
      async before(attempt) {
        gateCalls.push({ phase: 'before', attempt });
        if (attempt.identifier === LOCKED) {
          throw new HttpProblem({ status: 423, code: 'account_locked', title: 'Locked', headers: { 'Retry-After': '60' } });
        }
      },
      async after(attempt, outcome) {
        gateCalls.push({ phase: 'after', attempt, outcome });
      },
    });
  },
});

const seen = {
  failed: [] as PayloadOf<typeof authHooks.loginFailed>[],
  succeeded: [] as PayloadOf<typeof authHooks.loginSucceeded>[],
  revoked: [] as PayloadOf<typeof authHooks.sessionRevoked>[],
  reset: [] as PayloadOf<typeof authHooks.passwordReset>[],
};

const watcher = definePlugin({
  id: 'watcher',
  version: '1.0.0',
  hooks: (on) => [
    on(authHooks.loginFailed, (payload) => void seen.failed.push(payload)),
    on(authHooks.loginSucceeded, (payload) => void seen.succeeded.push(payload)),
    on(authHooks.sessionRevoked, (payload) => void seen.revoked.push(payload)),
    on(authHooks.passwordReset, (payload) => void seen.reset.push(payload)),
  ],
});

const guarded = definePlugin({
  id: 'guarded',
  version: '1.0.0',
  requires: { auth: authServiceRef },
  routes(router, ctx) {
    router.get('/v1/guarded/admin', async (http) => {
      const principal = await ctx.services.auth.requireRole(http, 'admin');
      http.body = { ok: true, userId: principal.user.id };
    });
    router.get('/v1/guarded/whoami', async (http) => {
      const principal = await ctx.services.auth.authenticate(http);
      http.body = { userId: principal?.user.id ?? null, sessionId: principal?.sessionId ?? null };
    });
    router.get('/v1/guarded/member', async (http) => {
      const principal = await ctx.services.auth.requireUser(http);
      http.body = { userId: principal.user.id, role: principal.user.role };
    });
  },
});

describe('auth security', () => {
  let mailbox: Mailbox;
  let t: TestKernel;
  const logs = captureLogger('debug');
  /** Every response this suite received, to search them for secrets. */
  const responses: Response[] = [];

  const inject = async (options: InjectOptions) => {
    const res = await t.inject(options);
    responses.push(res);
    return res;
  };
  const post = (url: string, payload?: unknown, headers: Record<string, string> = {}) =>
    inject({ method: 'POST', url, headers, ...(payload !== undefined && { payload: payload as object }) });
  const get = (url: string, headers: Record<string, string> = {}) => inject({ method: 'GET', url, headers });
  const sql = <T = Record<string, unknown>>(query: string, params: unknown[] = []) =>
    t.kernel.database.orm.em.getConnection().execute(query, params) as Promise<T[]>;

  const register = async (email: string, password = PASSWORD) => {
    const res = await post('/v1/auth/register', { email, password, displayName: 'Sec Tester' });
    assert.equal(res.statusCode, 202, res.body);
  };
  const verifyToken = async (email: string) => linkToken(await mailbox.waitFor(email, /Confirm your email/), APP, '/verify-email');
  const registerVerified = async (email: string, password = PASSWORD) => {
    await register(email, password);
    const res = await post('/v1/auth/verify-email', { token: await verifyToken(email) });
    assert.equal(res.statusCode, 200, res.body);
  };
  const login = async (email: string, password = PASSWORD, headers: Record<string, string> = {}): Promise<TokenPair> => {
    const res = await post('/v1/auth/login', { email, password }, headers);
    assert.equal(res.statusCode, 200, res.body);
    return res.json() as TokenPair;
  };

  before(async () => {
    mailbox = await startMailbox();
    t = await createTestKernel({
      plugins: [authPlugin, emailOptions(mailbox), gatekeeper, watcher, guarded],
      env: { JWT_SECRET },
      logger: logs.logger,
    });
  });
  after(async () => {
    try {
      await t?.close();
    } finally {
      await mailbox?.close();
    }
  });

  describe('no secret at rest, in a response or in the logs', () => {
    it('stores argon2id hashes and SHA-256 token hashes only; no raw token or password in any auth_/email_ table, response or log line', async () => {
      const secrets: Record<string, string> = {};
      const email = newEmail('secrets');
      await register(email);
      secrets.verification = await verifyToken(email);
      assert.equal((await post('/v1/auth/verify-email', { token: secrets.verification })).statusCode, 200);
      secrets.password = PASSWORD;
      secrets.wrongPassword = 'this is a wrong password';
      expectProblem(await post('/v1/auth/login', { email, password: secrets.wrongPassword }), 401, 'invalid_credentials');

      const first = await login(email);
      secrets.access1 = first.accessToken;
      secrets.refresh1 = first.refreshToken;
      const refreshed = await post('/v1/auth/refresh', { refreshToken: first.refreshToken });
      assert.equal(refreshed.statusCode, 200);
      const second = refreshed.json() as TokenPair;
      secrets.access2 = second.accessToken;
      secrets.refresh2 = second.refreshToken;
      // Reuse detection logs a warning: it must not carry the token either.
      expectProblem(await post('/v1/auth/refresh', { refreshToken: secrets.refresh1 }), 401, 'refresh_token_reused');

      const cookieRes = await post('/v1/auth/login?mode=cookie', { email, password: PASSWORD });
      assert.equal(cookieRes.statusCode, 200);
      const setCookies = ([] as string[]).concat(cookieRes.headers['set-cookie'] ?? []);
      for (const line of setCookies) {
        const [pair = ''] = line.split(';');
        const value = pair.slice(pair.indexOf('=') + 1);
        secrets[pair.startsWith(REFRESH_COOKIE) ? 'cookieRefresh' : 'csrf'] = value;
      }
      assert.ok(secrets.cookieRefresh && secrets.csrf, JSON.stringify(setCookies));

      // A live verification token of a second, unverified account (its email is still queued or sent).
      const pending = newEmail('pending');
      await register(pending, 'pending account passphrase');
      secrets.pendingPassword = 'pending account passphrase';
      secrets.pendingVerification = await verifyToken(pending);

      // A reset (spent) and a second, live reset token; then a password change.
      await post('/v1/auth/forgot-password', { email });
      secrets.reset = linkToken(await mailbox.waitFor(email, /Reset your/), APP, '/reset-password');
      secrets.resetPassword = 'the reset passphrase';
      assert.equal((await post('/v1/auth/reset-password', { token: secrets.reset, password: secrets.resetPassword })).statusCode, 204);
      await post('/v1/auth/forgot-password', { email });
      secrets.liveReset = linkToken(await mailbox.waitFor(email, /Reset your/), APP, '/reset-password');
      const third = await login(email, secrets.resetPassword);
      secrets.access3 = third.accessToken;
      secrets.refresh3 = third.refreshToken;
      secrets.changedPassword = 'the changed passphrase';
      const changed = await post(
        '/v1/auth/change-password',
        { currentPassword: secrets.resetPassword, newPassword: secrets.changedPassword },
        bearer(third.accessToken),
      );
      assert.equal(changed.statusCode, 204, changed.body);
      await mailbox.waitFor(email, /password was changed/);
      await mailbox.waitFor(email, /password was changed/);

      // --- at rest: the shapes of what is stored ---
      const users = await sql<{ email_normalized: string; password_hash: string }>('select email_normalized, password_hash from auth_users');
      assert.ok(users.length >= 2);
      for (const u of users) assert.ok(u.password_hash.startsWith('$argon2id$v=19$m=19456,t=2,p=1$'), u.password_hash);
      const refreshHashes = (await sql<{ token_hash: string }>('select token_hash from auth_refresh_tokens')).map((r) => r.token_hash);
      const oneTimeHashes = (await sql<{ token_hash: string }>('select token_hash from auth_one_time_tokens')).map((r) => r.token_hash);
      const csrfHashes = (await sql<{ csrf_hash: string }>('select csrf_hash from auth_sessions where csrf_hash is not null')).map((r) => r.csrf_hash);
      for (const h of [...refreshHashes, ...oneTimeHashes, ...csrfHashes]) assert.match(h, /^[0-9a-f]{64}$/);
      for (const name of ['refresh1', 'refresh2', 'refresh3', 'cookieRefresh']) assert.ok(refreshHashes.includes(sha256Hex(secrets[name]!)), `${name} is stored as its hash`);
      for (const name of ['verification', 'pendingVerification', 'reset', 'liveReset']) assert.ok(oneTimeHashes.includes(sha256Hex(secrets[name]!)), `${name} is stored as its hash`);
      assert.ok(csrfHashes.includes(sha256Hex(secrets.csrf!)));

      // --- at rest: every column of every auth_/email_ table ---
      const tables = (
        await sql<{ table_name: string }>(
          `select table_name from information_schema.tables
            where table_schema = current_schema() and (table_name like 'auth\\_%' or table_name like 'email\\_%') order by table_name`,
        )
      ).map((r) => r.table_name);
      for (const name of ['auth_users', 'auth_sessions', 'auth_refresh_tokens', 'auth_one_time_tokens', 'email_outbox']) assert.ok(tables.includes(name), `${name} in ${tables}`);
      let dumped = 0;
      for (const table of tables) {
        const rows = await sql<Record<string, unknown>>(`select x.*, x::text as row_text from ${table} x`);
        for (const row of rows) {
          for (const [column, value] of Object.entries(row)) {
            if (value === null || value === undefined) continue;
            const text = value instanceof Uint8Array ? Buffer.from(value).toString('latin1') : value instanceof Date ? value.toISOString() : String(value);
            dumped += 1;
            for (const [name, secret] of Object.entries(secrets)) {
              assert.ok(!text.includes(secret), `${table}.${column} holds the raw ${name}`);
            }
          }
        }
      }
      assert.ok(dumped > 50, `dumped ${dumped} values`);

      // --- in responses: never a hash ---
      const storedHashes = [...users.map((u) => u.password_hash), ...refreshHashes, ...oneTimeHashes, ...csrfHashes];
      for (const res of responses) {
        assert.doesNotMatch(res.body, /\$argon2|password_?hash|token_?hash|csrf_?hash/i, res.body);
        for (const h of storedHashes) assert.ok(!res.body.includes(h), `a response carries a stored hash: ${res.body}`);
        for (const name of ['password', 'wrongPassword', 'resetPassword', 'changedPassword', 'pendingPassword']) {
          assert.ok(!res.body.includes(secrets[name]!), `a response carries the ${name}`);
        }
      }

      // --- in the logs: neither a password nor a token ---
      await t.kernel.hooksSettled();
      const lines = logs.lines;
      assert.ok(lines.some((l) => l.msg === 'request' && l.path === '/v1/auth/login' && l.status === 200), 'requests are logged');
      assert.ok(lines.some((l) => l.msg === 'email sent'), 'deliveries are logged');
      const text = logs.text();
      for (const [name, secret] of Object.entries(secrets)) assert.ok(!text.includes(secret), `the logs carry the ${name}`);
      for (const h of storedHashes) assert.ok(!text.includes(h), 'the logs carry a stored hash');
    });
  });

  describe('mass assignment', () => {
    it('ignores role, verification and id fields sent with a registration', async () => {
      const email = newEmail('sneaky');
      const res = await post('/v1/auth/register', {
        email,
        password: PASSWORD,
        displayName: 'Sneaky',
        role: 'admin',
        emailVerified: true,
        emailVerifiedAt: new Date().toISOString(),
        id: '00000000-0000-7000-8000-000000000000',
        passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA',
      });
      assert.equal(res.statusCode, 202, res.body);
      expectProblem(await post('/v1/auth/login', { email, password: PASSWORD }), 403, 'email_not_verified');
      const verified = await post('/v1/auth/verify-email', { token: await verifyToken(email) });
      const { user } = verified.json() as { user: { id: string; role: string } };
      assert.equal(user.role, 'artist');
      assert.notEqual(user.id, '00000000-0000-7000-8000-000000000000');
      expectProblem(await get('/v1/guarded/admin', bearer((await login(email)).accessToken)), 403, 'forbidden');
    });
  });

  describe('login gates', () => {
    it('a gate that throws refuses the login (423 with Retry-After) even with the right password; after() sees each outcome', async () => {
      await registerVerified(LOCKED);
      const requestId = `gate-${randomBytes(4).toString('hex')}`;
      const locked = await post('/v1/auth/login', { email: `  ${LOCKED.toUpperCase()} `, password: PASSWORD }, { 'x-request-id': requestId });
      expectProblem(locked, 423, 'account_locked');
      assert.equal(locked.headers['retry-after'], '60');
      const lockedCalls = gateCalls.filter((c) => c.attempt.identifier === LOCKED);
      assert.deepEqual(lockedCalls.map((c) => c.phase), ['before']);
      assert.deepEqual(lockedCalls[0]!.attempt, { identifier: LOCKED, ip: '127.0.0.1', requestId });
      assert.equal(JSON.stringify(lockedCalls).includes(PASSWORD), false, 'gates never see the password');
      const sessions = await sql('select s.id from auth_sessions s join auth_users u on u.id = s.user_id where u.email_normalized = ?', [LOCKED]);
      assert.equal(sessions.length, 0, 'no session was opened');

      const email = newEmail('gated');
      await registerVerified(email);
      expectProblem(await post('/v1/auth/login', { email, password: 'not the password!' }), 401, 'invalid_credentials');
      await login(email);
      expectProblem(await post('/v1/auth/login', { email: newEmail('nobody'), password: PASSWORD }), 401, 'invalid_credentials');
      const calls = gateCalls.filter((c) => c.attempt.identifier === email);
      assert.deepEqual(
        calls.map((c) => [c.phase, c.outcome]),
        [
          ['before', undefined],
          ['after', 'failed'],
          ['before', undefined],
          ['after', 'succeeded'],
        ],
      );
      const unknownAfter = gateCalls.filter((c) => c.phase === 'after' && c.attempt.identifier.startsWith('nobody-'));
      assert.deepEqual(unknownAfter.map((c) => c.outcome), ['failed']);
    });
  });

  describe('hooks', () => {
    it('auth.login.failed carries the normalised identifier, ip and reason, for unknown emails too', async () => {
      const unknown = newEmail('Ghost').toUpperCase();
      expectProblem(await post('/v1/auth/login', { email: `  ${unknown}  `, password: 'some password here' }), 401, 'invalid_credentials');
      const known = newEmail('hooked');
      await registerVerified(known);
      expectProblem(await post('/v1/auth/login', { email: known, password: 'some password here' }), 401, 'invalid_credentials');
      const unverified = newEmail('unverified');
      await register(unverified);
      expectProblem(await post('/v1/auth/login', { email: unverified, password: PASSWORD }), 403, 'email_not_verified');
      const pair = await login(known.toUpperCase());

      await t.kernel.hooksSettled();
      const failedFor = (id: string) => seen.failed.filter((p) => p.identifier === id);
      assert.deepEqual(failedFor(unknown.toLowerCase()), [{ identifier: unknown.toLowerCase(), ip: '127.0.0.1', reason: 'invalid_credentials' }]);
      assert.deepEqual(failedFor(known), [{ identifier: known, ip: '127.0.0.1', reason: 'invalid_credentials' }]);
      assert.deepEqual(failedFor(unverified), [{ identifier: unverified, ip: '127.0.0.1', reason: 'email_not_verified' }]);
      assert.deepEqual(
        seen.succeeded.filter((p) => p.identifier === known),
        [{ userId: pair.user.id, identifier: known, ip: '127.0.0.1' }],
      );

      // Session revocations and password resets are announced as well.
      const sid = (await get('/v1/guarded/whoami', bearer(pair.accessToken))).json() as { sessionId: string };
      assert.equal((await post('/v1/auth/logout', undefined, bearer(pair.accessToken))).statusCode, 204);
      await post('/v1/auth/forgot-password', { email: known });
      const token = linkToken(await mailbox.waitFor(known, /Reset your/), APP, '/reset-password');
      assert.equal((await post('/v1/auth/reset-password', { token, password: 'a whole new passphrase' })).statusCode, 204);
      await t.kernel.hooksSettled();
      assert.ok(
        seen.revoked.some((p) => p.userId === pair.user.id && p.reason === 'logout' && p.sessionIds.length === 1 && p.sessionIds[0] === sid.sessionId),
        JSON.stringify(seen.revoked),
      );
      assert.deepEqual(seen.reset.filter((p) => p.userId === pair.user.id), [{ userId: pair.user.id, identifier: known }]);
    });
  });

  describe('guards for other plugins', () => {
    it('requireRole: 401 without a token, 403 for an artist, 200 once the user is an admin', async () => {
      const noToken = await get('/v1/guarded/admin');
      expectProblem(noToken, 401, 'unauthenticated');
      assert.equal(noToken.headers['www-authenticate'], 'Bearer');
      expectProblem(await get('/v1/guarded/member'), 401, 'unauthenticated');
      assert.deepEqual((await get('/v1/guarded/whoami')).json(), { userId: null, sessionId: null });
      assert.deepEqual((await get('/v1/guarded/whoami', bearer('not.a.token'))).json(), { userId: null, sessionId: null });

      const email = newEmail('artist');
      await registerVerified(email);
      const pair = await login(email);
      assert.equal(pair.user.role, 'artist');
      expectProblem(await get('/v1/guarded/admin', bearer(pair.accessToken)), 403, 'forbidden');
      assert.deepEqual((await get('/v1/guarded/member', bearer(pair.accessToken))).json(), { userId: pair.user.id, role: 'artist' });

      await sql(`update auth_users set role = 'admin' where id = ?`, [pair.user.id]);
      const promoted = await get('/v1/guarded/admin', bearer(pair.accessToken));
      assert.equal(promoted.statusCode, 200, promoted.body);
      assert.deepEqual(promoted.json(), { ok: true, userId: pair.user.id });
      const fresh = await login(email);
      assert.equal(fresh.user.role, 'admin');
      assert.equal((await get('/v1/guarded/admin', bearer(fresh.accessToken))).statusCode, 200);

      // Demoted again: the role is checked on every request, not taken from the token.
      await sql(`update auth_users set role = 'artist' where id = ?`, [pair.user.id]);
      expectProblem(await get('/v1/guarded/admin', bearer(fresh.accessToken)), 403, 'forbidden');
    });

    it('revokeAllSessions(userId) stops every access and refresh token of that user at once', async () => {
      const email = newEmail('revoked');
      await registerVerified(email);
      const a = await login(email);
      const b = await login(email);
      const other = newEmail('unrelated');
      await registerVerified(other);
      const theirs = await login(other);

      const count = await authService().revokeAllSessions(a.user.id, 'admin_action');
      assert.equal(count, 2);
      for (const s of [a, b]) {
        expectProblem(await get('/v1/me', bearer(s.accessToken)), 401, 'unauthenticated');
        expectProblem(await get('/v1/guarded/member', bearer(s.accessToken)), 401, 'unauthenticated');
        expectProblem(await post('/v1/auth/refresh', { refreshToken: s.refreshToken }), 401, 'invalid_refresh_token');
      }
      assert.equal((await get('/v1/me', bearer(theirs.accessToken))).statusCode, 200);
      assert.equal(await authService().revokeAllSessions(a.user.id, 'admin_action'), 0);
      await t.kernel.hooksSettled();
      assert.ok(seen.revoked.some((p) => p.userId === a.user.id && p.reason === 'admin_action' && p.sessionIds.length === 2));
      await login(email); // the account itself still works
    });
  });
});

describe('argon2 concurrency cap', () => {
  it('with hashConcurrency 1, four concurrent logins queue and all succeed', async () => {
    const mailbox = await startMailbox();
    let t: TestKernel | undefined;
    try {
      t = await createTestKernel({ plugins: [configure(authPlugin, { hashConcurrency: 1 }), emailOptions(mailbox)], env: { JWT_SECRET } });
      const kernel = t;
      const post = (url: string, payload: unknown) => kernel.inject({ method: 'POST', url, payload: payload as object });
      const email = newEmail('queued');
      assert.equal((await post('/v1/auth/register', { email, password: PASSWORD, displayName: 'Q' })).statusCode, 202);
      const token = linkToken(await mailbox.waitFor(email, /Confirm your email/), APP, '/verify-email');
      assert.equal((await post('/v1/auth/verify-email', { token })).statusCode, 200);

      const results = await Promise.all([
        ...Array.from({ length: 4 }, () => post('/v1/auth/login', { email, password: PASSWORD })),
        post('/v1/auth/login', { email, password: 'a wrong password here' }),
      ]);
      const logins = results.slice(0, 4);
      for (const r of logins) assert.equal(r.statusCode, 200, r.body);
      assert.equal(results[4]!.statusCode, 401, results[4]!.body);
      const refreshTokens = new Set(logins.map((r) => (r.json() as TokenPair).refreshToken));
      assert.equal(refreshTokens.size, 4, 'four separate sessions');
      for (const r of logins) assert.equal((await kernel.inject({ url: '/v1/me', headers: bearer((r.json() as TokenPair).accessToken) })).statusCode, 200);
    } finally {
      try {
        await t?.close();
      } finally {
        await mailbox.close();
      }
    }
  });
});
