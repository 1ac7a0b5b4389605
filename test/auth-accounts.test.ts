/**
 * The auth plugin's account lifecycle, end to end over real parts: real PostgreSQL, the email
 * plugin delivering over SMTP to a server this test starts, tokens read from the received mail.
 * Registration (no enumeration), email verification, resend, password policy, forgotten and
 * reset passwords, password change (API.md, "auth plugin").
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Response } from 'light-my-request';
import { configure } from '../core/index.ts';
import { createTestKernel, type TestKernel } from '../host/testing.ts';
import { authPlugin } from '../plugins/auth/index.ts';
import { emailPlugin } from '../plugins/email/index.ts';
import { addresses, linkToken, startMailbox, type Mailbox } from './support/mailbox.ts';
import { expectProblem } from './support/expect-problem.ts';

const APP = 'https://app.empulse.test/studio';
const FROM_ADDRESS = 'no-reply@empulse.test';
const JWT_SECRET = 'accounts-test-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const PASSWORD = 'correct horse battery staple';

const SUBJECT = {
  verify: /^Confirm your email address$/,
  exists: /already have an Empulse account/,
  reset: /^Reset your Empulse password$/,
  changed: /password was changed/,
};

interface TokenPair {
  accessToken: string;
  tokenType: string;
  expiresIn: number;
  refreshToken: string;
  user: Record<string, unknown>;
}

describe('auth accounts', () => {
  let mailbox: Mailbox;
  let t: TestKernel;

  before(async () => {
    mailbox = await startMailbox();
    t = await createTestKernel({
      plugins: [
        authPlugin,
        configure(emailPlugin, {
          transport: 'smtp',
          smtpUrl: mailbox.url,
          publicAppUrl: APP,
          from: `Empulse <${FROM_ADDRESS}>`,
          pollIntervalMs: 50,
          retryBaseDelayMs: 20,
        }),
      ],
      env: { JWT_SECRET },
    });
  });
  after(async () => {
    try {
      await t?.close();
    } finally {
      await mailbox?.close();
    }
  });

  const newEmail = (label: string) => `${label}-${randomBytes(5).toString('hex')}@example.test`;
  const post = (url: string, payload?: unknown, headers: Record<string, string> = {}) =>
    t.inject({ method: 'POST', url, headers, ...(payload !== undefined && { payload: payload as object }) });
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const me = (accessToken: string) => t.inject({ url: '/v1/me', headers: bearer(accessToken) });
  const sql = <T = Record<string, unknown>>(query: string, params: unknown[] = []) =>
    t.kernel.database.orm.em.getConnection().execute(query, params) as Promise<T[]>;
  /** The templates queued for a recipient, oldest first (queued in the request's transaction). */
  const queued = async (recipient: string) =>
    (await sql<{ template: string }>('select template from email_outbox where lower(recipient) = lower(?) order by created_at, id', [recipient])).map(
      (r) => r.template,
    );


  const register = async (email: string, password = PASSWORD, displayName = 'Ada Lovelace') => {
    const res = await post('/v1/auth/register', { email, password, displayName });
    assert.equal(res.statusCode, 202, res.body);
    assert.deepEqual(res.json(), { status: 'verification_sent' });
    return res;
  };
  const verificationToken = async (email: string) => linkToken(await mailbox.waitFor(email, SUBJECT.verify), APP, '/verify-email');
  const registerVerified = async (email: string, password = PASSWORD, displayName = 'Ada Lovelace') => {
    await register(email, password, displayName);
    const res = await post('/v1/auth/verify-email', { token: await verificationToken(email) });
    assert.equal(res.statusCode, 200, res.body);
  };
  const login = async (email: string, password = PASSWORD): Promise<TokenPair> => {
    const res = await post('/v1/auth/login', { email, password });
    assert.equal(res.statusCode, 200, res.body);
    return res.json() as TokenPair;
  };

  describe('registration and verification', () => {
    it('answers 202, mails a verification link built from PUBLIC_APP_URL, and verifying it returns the verified user', async () => {
      const email = newEmail('ada');
      await register(email, PASSWORD, 'Ada Lovelace');

      const mail = await mailbox.waitFor(email, SUBJECT.verify);
      assert.deepEqual(addresses(mail.from), [FROM_ADDRESS]);
      assert.equal(mail.from?.value[0]?.name, 'Empulse');
      assert.deepEqual(addresses(mail.to), [email]);
      assert.ok(mail.text && mail.text.length > 0, 'a plain-text part');
      assert.match(mail.text, /Ada Lovelace/);
      const token = linkToken(mail, APP, '/verify-email');
      assert.ok(token.length >= 22, `a token of at least 128 bits, got ${token.length} chars`);
      assert.ok(mail.text.includes(`${APP}/verify-email?token=${token}`));

      // Not verified yet: the right password is refused.
      expectProblem(await post('/v1/auth/login', { email, password: PASSWORD }), 403, 'email_not_verified');

      const res = await post('/v1/auth/verify-email', { token });
      assert.equal(res.statusCode, 200, res.body);
      const { user } = res.json() as { user: Record<string, unknown> };
      assert.deepEqual(Object.keys(user).sort(), ['createdAt', 'displayName', 'email', 'emailVerified', 'id', 'role']);
      assert.equal(user.email, email);
      assert.equal(user.displayName, 'Ada Lovelace');
      assert.equal(user.role, 'artist');
      assert.equal(user.emailVerified, true);
      assert.equal(typeof user.id, 'string');
      assert.equal(new Date(user.createdAt as string).toISOString(), user.createdAt);

      const pair = await login(email);
      assert.deepEqual(pair.user, user);
      const meRes = await me(pair.accessToken);
      assert.equal(meRes.statusCode, 200);
      assert.deepEqual(meRes.json(), user);
    });

    it('answers an existing email (other case, extra spaces) exactly like a new one, and mails "account exists" instead', async () => {
      const email = newEmail('existing');
      await registerVerified(email);
      const fresh = await post('/v1/auth/register', { email: newEmail('fresh'), password: PASSWORD, displayName: 'Fresh' });
      const again = await post('/v1/auth/register', { email: `   ${email.toUpperCase()}  `, password: 'another long passphrase', displayName: 'Impostor' });
      assert.equal(again.statusCode, fresh.statusCode);
      assert.equal(again.statusCode, 202);
      assert.equal(again.body, fresh.body);
      assert.equal(again.headers['content-type'], fresh.headers['content-type']);

      const notice = await mailbox.waitFor(email, SUBJECT.exists);
      assert.deepEqual(addresses(notice.to), [email]);
      assert.ok(notice.text?.includes(`${APP}/login`), notice.text);
      assert.ok(notice.text?.includes(`${APP}/forgot-password`), notice.text);
      // One verification email (the first registration's) and nothing else.
      assert.equal(mailbox.all(email, SUBJECT.verify).length, 1);
      assert.deepEqual(await queued(email), ['auth.verify-email', 'auth.account-exists']);
      const rows = await sql<{ n: string }>('select count(*)::int as n from auth_users where email_normalized = ?', [email]);
      assert.equal(Number(rows[0]?.n), 1);

      // The account is untouched: the old password still works, the new one does not.
      const pair = await login(email);
      assert.equal(pair.user.displayName, 'Ada Lovelace');
      expectProblem(await post('/v1/auth/login', { email, password: 'another long passphrase' }), 401, 'invalid_credentials');
    });

    it('refuses malformed input with 422 validation_failed naming each field', async () => {
      const cases: [unknown, string][] = [
        [{ email: 'not-an-email', password: PASSWORD, displayName: 'Ada' }, 'email'],
        [{ email: newEmail('nodisplay'), password: PASSWORD }, 'displayName'],
        [{ email: newEmail('blankdisplay'), password: PASSWORD, displayName: '   ' }, 'displayName'],
        [{ email: newEmail('nopassword'), displayName: 'Ada' }, 'password'],
        [{ password: PASSWORD, displayName: 'Ada' }, 'email'],
      ];
      for (const [payload, path] of cases) {
        const body = expectProblem(await post('/v1/auth/register', payload), 422, 'validation_failed');
        assert.ok(Array.isArray(body.errors), JSON.stringify(body));
        assert.ok(
          body.errors.some((e) => e.path === path && typeof e.message === 'string'),
          `errors name ${path}: ${JSON.stringify(body.errors)}`,
        );
        const email = (payload as { email?: string }).email;
        if (email) assert.deepEqual(await queued(email), []);
      }
    });

    it('lists a password of the wrong length with the other field errors, in one 422 validation_failed', async () => {
      const both = expectProblem(await post('/v1/auth/register', { email: 'not-an-email', password: 'short', displayName: '' }), 422, 'validation_failed');
      assert.deepEqual(
        both.errors?.map((e) => e.path).sort(),
        ['displayName', 'email', 'password'],
        `every field to fix at once: ${JSON.stringify(both.errors)}`,
      );
      assert.match(String(both.errors?.find((e) => e.path === 'password')?.message), /at least 12 characters/);
      const long = expectProblem(await post('/v1/auth/register', { email: 'not-an-email', password: 'x'.repeat(129), displayName: 'Ada' }), 422, 'validation_failed');
      assert.match(String(long.errors?.find((e) => e.path === 'password')?.message), /at most 128 characters/);
      // A good length with another field wrong: only that field.
      const fine = expectProblem(await post('/v1/auth/register', { email: 'not-an-email', password: PASSWORD, displayName: 'Ada' }), 422, 'validation_failed');
      assert.deepEqual(fine.errors?.map((e) => e.path), ['email']);
      // Reset and change list it the same way.
      const reset = expectProblem(await post('/v1/auth/reset-password', { token: '', password: 'short' }), 422, 'validation_failed');
      assert.deepEqual(reset.errors?.map((e) => e.path).sort(), ['password', 'token']);
    });

    it('refuses weak passwords with 422 weak_password: under 12, over 128, common ones, the email itself', async () => {
      const email = newEmail('weakling');
      const weak = [
        'a1b2c3d4e5f', // 11 characters
        'x'.repeat(129),
        'password1234', // in the common-passwords list
        'QwertyUiop123', // common, whatever the case
        'ｐａｓｓｗｏｒｄ１２３４', // fullwidth: "password1234" after NFKC
        email, // the account's own email
        'password123456', // 14 characters, not in the exact list, and still a first guess
        'Password1234!!', // a common word with the usual substitutions
        'qwertyqwertyqwerty', // keyboard walk, repeated
      ];
      for (const password of weak) {
        const body = expectProblem(await post('/v1/auth/register', { email, password, displayName: 'Weak' }), 422, 'weak_password');
        assert.ok(body.errors?.some((e) => e.path === 'password'), JSON.stringify(body));
      }
      const guessable = expectProblem(await post('/v1/auth/register', { email, password: 'password123456', displayName: 'Weak' }), 422, 'weak_password');
      assert.match(String(guessable.detail), /too easy to guess: .*commonly used password/, 'the detail says why');
      assert.deepEqual(await queued(email), [], 'no account, no email');
      assert.equal((await sql('select 1 from auth_users where email_normalized = ?', [email])).length, 0);

      // The bounds themselves are fine.
      await registerVerified(newEmail('twelve'), 'glacier7moth');
      const long = newEmail('long');
      await registerVerified(long, 'y'.repeat(120) + 'Z1!z2@x3');
      await login(long, 'y'.repeat(120) + 'Z1!z2@x3');
    });

    it('compares passwords after NFKC: a fullwidth password logs in with its ASCII form', async () => {
      const email = newEmail('nfkc');
      const fullwidth = 'Ｇｌａｃｉｅｒ７Ｍｏｔｈ'; // 12 characters; NFKC gives "Glacier7Moth"
      assert.equal(fullwidth.normalize('NFKC'), 'Glacier7Moth');
      await registerVerified(email, fullwidth);
      await login(email, 'Glacier7Moth');
      await login(email, fullwidth);
      expectProblem(await post('/v1/auth/login', { email, password: 'glacier7moth' }), 401, 'invalid_credentials');
    });
    it('two registrations of one new email at once: both 202, one account, one verification and one "account exists" email', async () => {
      const email = newEmail('race');
      const [a, b] = await Promise.all([
        post('/v1/auth/register', { email, password: PASSWORD, displayName: 'First' }),
        post('/v1/auth/register', { email: email.toUpperCase(), password: 'another long passphrase', displayName: 'Second' }),
      ]);
      assert.equal(a.statusCode, 202, a.body);
      assert.equal(b.statusCode, 202, b.body);
      assert.equal(a.body, b.body);
      const rows = await sql<{ n: number }>('select count(*)::int as n from auth_users where email_normalized = ?', [email]);
      assert.equal(Number(rows[0]?.n), 1);
      assert.deepEqual((await queued(email)).sort(), ['auth.account-exists', 'auth.verify-email']);
      await mailbox.waitFor(email, SUBJECT.verify);
      await mailbox.waitFor(email, SUBJECT.exists);
    });

    it('keeps the email as typed (trimmed) and matches it case-insensitively at login', async () => {
      const local = `Mixed.Case-${randomBytes(4).toString('hex')}`;
      const typed = `${local}@Example.TEST`;
      await register(`  ${typed}  `);
      const token = await verificationToken(typed.toLowerCase());
      const res = await post('/v1/auth/verify-email', { token });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal((res.json() as { user: { email: string } }).user.email, typed);
      const pair = await login(`${local.toLowerCase()}@example.test`);
      assert.equal(pair.user.email, typed);
    });
  });

  describe('verification tokens', () => {
    it('refuses unknown, reused and expired tokens with 400 invalid_token', async () => {
      expectProblem(await post('/v1/auth/verify-email', { token: randomBytes(32).toString('base64url') }), 400, 'invalid_token');
      expectProblem(await post('/v1/auth/verify-email', {}), 422, 'validation_failed');

      const reused = newEmail('reused');
      await register(reused);
      const token = await verificationToken(reused);
      assert.equal((await post('/v1/auth/verify-email', { token })).statusCode, 200);
      expectProblem(await post('/v1/auth/verify-email', { token }), 400, 'invalid_token');

      const expired = newEmail('expired');
      await register(expired);
      const old = await verificationToken(expired);
      await sql(
        `update auth_one_time_tokens set expires_at = now() - interval '1 minute'
          where purpose = 'verify_email' and user_id = (select id from auth_users where email_normalized = ?)`,
        [expired],
      );
      expectProblem(await post('/v1/auth/verify-email', { token: old }), 400, 'invalid_token');
      expectProblem(await post('/v1/auth/login', { email: expired, password: PASSWORD }), 403, 'email_not_verified');
    });

    it('a verification token is spent exactly once under concurrency, and is no reset token', async () => {
      const email = newEmail('concurrent-verify');
      await register(email);
      const token = await verificationToken(email);
      expectProblem(await post('/v1/auth/reset-password', { token, password: 'a brand new passphrase' }), 400, 'invalid_token');
      const results = await Promise.all(Array.from({ length: 5 }, () => post('/v1/auth/verify-email', { token })));
      const statuses = results.map((r) => r.statusCode).sort();
      assert.deepEqual(statuses, [200, 400, 400, 400, 400], results.map((r) => r.body).join('\n'));
      for (const r of results.filter((r) => r.statusCode === 400)) expectProblem(r, 400, 'invalid_token');
      await login(email);
    });

    it('resend-verification answers 202 for unknown and known emails; the new link works and the previous one no longer does', async () => {
      const unknown = newEmail('nobody');
      const r1 = await post('/v1/auth/resend-verification', { email: unknown });
      assert.equal(r1.statusCode, 202, r1.body);

      const email = newEmail('resend');
      await register(email);
      const first = await verificationToken(email);
      const r2 = await post('/v1/auth/resend-verification', { email: `  ${email.toUpperCase()} ` });
      assert.equal(r2.statusCode, 202, r2.body);
      assert.equal(r2.body, r1.body, 'the same answer whether or not the account exists');
      const second = await verificationToken(email);
      assert.notEqual(second, first);
      assert.deepEqual(await queued(unknown), []);

      expectProblem(await post('/v1/auth/verify-email', { token: first }), 400, 'invalid_token');
      const ok = await post('/v1/auth/verify-email', { token: second });
      assert.equal(ok.statusCode, 200, ok.body);
      assert.equal((ok.json() as { user: { emailVerified: boolean } }).user.emailVerified, true);

      // A verified account gets nothing more, and the answer does not change. (The work may run
      // after the response: a later request's email, once delivered, shows it has been done.)
      const r3 = await post('/v1/auth/resend-verification', { email });
      assert.equal(r3.statusCode, 202);
      assert.equal(r3.body, r1.body);
      assert.equal((await post('/v1/auth/forgot-password', { email })).statusCode, 202);
      await mailbox.waitFor(email, SUBJECT.reset);
      assert.deepEqual(await queued(email), ['auth.verify-email', 'auth.verify-email', 'auth.password-reset']);
      assert.equal(mailbox.all(email, SUBJECT.verify).length, 2);
    });
  });

  describe('forgotten and reset passwords', () => {
    it('forgot-password answers 202 always and mails a reset link to existing accounts only', async () => {
      const unknown = newEmail('ghost');
      const r1 = await post('/v1/auth/forgot-password', { email: unknown });
      assert.equal(r1.statusCode, 202, r1.body);

      const email = newEmail('forgetful');
      await registerVerified(email);
      const r2 = await post('/v1/auth/forgot-password', { email: ` ${email.toUpperCase()}` });
      assert.equal(r2.statusCode, 202);
      assert.equal(r2.body, r1.body);

      const mail = await mailbox.waitFor(email, SUBJECT.reset);
      assert.deepEqual(addresses(mail.to), [email]);
      assert.deepEqual(addresses(mail.from), [FROM_ADDRESS]);
      const token = linkToken(mail, APP, '/reset-password');
      assert.ok(token.length >= 22);
      assert.deepEqual(await queued(unknown), []);
      assert.equal(mailbox.all(unknown).length, 0);
    });

    it('a new reset link voids the previous one, and an expired one is refused', async () => {
      const email = newEmail('twice');
      await registerVerified(email);
      await post('/v1/auth/forgot-password', { email });
      const first = linkToken(await mailbox.waitFor(email, SUBJECT.reset), APP, '/reset-password');
      await post('/v1/auth/forgot-password', { email });
      const second = linkToken(await mailbox.waitFor(email, SUBJECT.reset), APP, '/reset-password');
      assert.notEqual(first, second);
      expectProblem(await post('/v1/auth/reset-password', { token: first, password: 'a brand new passphrase' }), 400, 'invalid_token');

      await sql(
        `update auth_one_time_tokens set expires_at = now() - interval '1 second'
          where purpose = 'reset_password' and user_id = (select id from auth_users where email_normalized = ?)`,
        [email],
      );
      expectProblem(await post('/v1/auth/reset-password', { token: second, password: 'a brand new passphrase' }), 400, 'invalid_token');
      await login(email); // unchanged
    });

    it('of several reset links requested at once, only one stays valid', async () => {
      const email = newEmail('burst');
      await registerVerified(email);
      const answers = await Promise.all(Array.from({ length: 5 }, () => post('/v1/auth/forgot-password', { email })));
      for (const a of answers) assert.equal(a.statusCode, 202, a.body);
      const tokens: string[] = [];
      for (let i = 0; i < 5; i++) tokens.push(linkToken(await mailbox.waitFor(email, SUBJECT.reset), APP, '/reset-password'));
      assert.equal(new Set(tokens).size, 5);
      // A weak password is checked after the token and spends nothing: 422 means "live", 400 "void".
      const probes = await Promise.all(tokens.map((token) => post('/v1/auth/reset-password', { token, password: 'weak' })));
      const live = probes.filter((r) => r.statusCode === 422);
      assert.equal(live.length, 1, `live reset tokens: ${probes.map((r) => r.statusCode).join(', ')}`);
      for (const r of probes.filter((r) => r.statusCode !== 422)) expectProblem(r, 400, 'invalid_token');
    });

    it('reset: a weak password is refused without spending the token; then 204, every session revoked, single use', async () => {
      const email = newEmail('reset');
      await registerVerified(email);
      const phone = await login(email);
      const laptop = await login(email);
      await post('/v1/auth/forgot-password', { email });
      const token = linkToken(await mailbox.waitFor(email, SUBJECT.reset), APP, '/reset-password');

      const weak = expectProblem(await post('/v1/auth/reset-password', { token, password: 'short' }), 422, 'weak_password');
      assert.ok(weak.errors?.some((e) => e.path === 'password'));
      expectProblem(await post('/v1/auth/reset-password', { token, password: 'password1234' }), 422, 'weak_password');
      expectProblem(await post('/v1/auth/reset-password', { token: randomBytes(32).toString('base64url'), password: 'a brand new passphrase' }), 400, 'invalid_token');
      assert.equal((await me(phone.accessToken)).statusCode, 200, 'nothing changed yet');

      const NEW = 'a brand new passphrase';
      const done = await post('/v1/auth/reset-password', { token, password: NEW });
      assert.equal(done.statusCode, 204, done.body);
      assert.equal(done.body, '');

      for (const session of [phone, laptop]) {
        const res = await me(session.accessToken);
        expectProblem(res, 401, 'unauthenticated');
        assert.equal(res.headers['www-authenticate'], 'Bearer');
        expectProblem(await post('/v1/auth/refresh', { refreshToken: session.refreshToken }), 401, 'invalid_refresh_token');
      }
      expectProblem(await post('/v1/auth/login', { email, password: PASSWORD }), 401, 'invalid_credentials');
      const fresh = await login(email, NEW);
      assert.equal((await me(fresh.accessToken)).statusCode, 200);
      expectProblem(await post('/v1/auth/reset-password', { token, password: 'yet another passphrase' }), 400, 'invalid_token');
      await login(email, NEW);

      const notice = await mailbox.waitFor(email, SUBJECT.changed);
      assert.ok(notice.text?.includes(`${APP}/`), notice.text);
    });

    it('a reset token is spent exactly once under concurrency, and is no verification token', async () => {
      const email = newEmail('concurrent-reset');
      await registerVerified(email);
      await post('/v1/auth/forgot-password', { email });
      const token = linkToken(await mailbox.waitFor(email, SUBJECT.reset), APP, '/reset-password');
      expectProblem(await post('/v1/auth/verify-email', { token }), 400, 'invalid_token');
      const passwords = ['first new passphrase', 'second new passphrase', 'third new passphrase'];
      const results = await Promise.all(passwords.map((password) => post('/v1/auth/reset-password', { token, password })));
      assert.deepEqual(results.map((r) => r.statusCode).sort(), [204, 400, 400], results.map((r) => r.body).join('\n'));
      const winner = passwords[results.findIndex((r) => r.statusCode === 204)]!;
      await login(email, winner);
      for (const loser of passwords.filter((p) => p !== winner)) {
        expectProblem(await post('/v1/auth/login', { email, password: loser }), 401, 'invalid_credentials');
      }
    });
  });

  describe('change-password', () => {
    it('checks the current password and the policy, keeps this session, revokes the others, and mails a notice', async () => {
      const email = newEmail('changer');
      await registerVerified(email);
      const current = await login(email);
      const other = await login(email);
      const change = (payload: unknown, token = current.accessToken) => post('/v1/auth/change-password', payload, bearer(token));

      expectProblem(await post('/v1/auth/change-password', { currentPassword: PASSWORD, newPassword: 'a fresh passphrase!' }), 401, 'unauthenticated');
      expectProblem(await change({ currentPassword: 'not my password at all', newPassword: 'a fresh passphrase!' }), 401, 'invalid_credentials');
      const weak = expectProblem(await change({ currentPassword: PASSWORD, newPassword: 'qwertyuiop123' }), 422, 'weak_password');
      assert.ok(weak.errors?.some((e) => e.path === 'newPassword'), JSON.stringify(weak));
      expectProblem(await change({ currentPassword: PASSWORD, newPassword: 'tooshort' }), 422, 'weak_password');
      assert.equal((await me(other.accessToken)).statusCode, 200, 'failed attempts revoke nothing');
      assert.deepEqual(await queued(email), ['auth.verify-email']);

      const NEW = 'a fresh passphrase!';
      const ok = await change({ currentPassword: PASSWORD, newPassword: NEW });
      assert.equal(ok.statusCode, 204, ok.body);

      assert.equal((await me(current.accessToken)).statusCode, 200, 'the current session keeps working');
      const refreshed = await post('/v1/auth/refresh', { refreshToken: current.refreshToken });
      assert.equal(refreshed.statusCode, 200, refreshed.body);
      expectProblem(await me(other.accessToken), 401, 'unauthenticated');
      expectProblem(await post('/v1/auth/refresh', { refreshToken: other.refreshToken }), 401, 'invalid_refresh_token');

      expectProblem(await post('/v1/auth/login', { email, password: PASSWORD }), 401, 'invalid_credentials');
      await login(email, NEW);

      const notice = await mailbox.waitFor(email, SUBJECT.changed);
      assert.deepEqual(addresses(notice.to), [email]);
      assert.ok(notice.text?.includes(`${APP}/`), notice.text);
    });
  });
});
