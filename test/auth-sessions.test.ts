/**
 * The auth plugin's sessions over real parts (PostgreSQL, SMTP): login, access tokens, refresh
 * rotation and reuse detection, logout, the session list, cookie mode with its CSRF defences, and
 * the JWKS of asymmetric signing keys (API.md, "auth plugin").
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Response } from 'light-my-request';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, exportJWK, exportPKCS8, generateKeyPair, jwtVerify, SignJWT, type JWK } from 'jose';
import { configure } from '../core/index.ts';
import { createTestKernel, type TestKernel } from '../host/testing.ts';
import { authPlugin } from '../plugins/auth/index.ts';
import { emailPlugin } from '../plugins/email/index.ts';
import { linkToken, startMailbox, type Mailbox } from './support/mailbox.ts';
import { expectProblem } from './support/expect-problem.ts';

const APP = 'https://app.empulse.test';
const JWT_SECRET = 'sessions-test-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const PASSWORD = 'correct horse battery staple';
const REFRESH_COOKIE = '__Secure-empulse_refresh';

interface TokenPair {
  accessToken: string;
  tokenType: string;
  expiresIn: number;
  refreshToken: string;
  user: { id: string; email: string } & Record<string, unknown>;
}

interface SetCookie {
  name: string;
  value: string;
  attributes: Map<string, string>;
}

function parseSetCookies(res: Response): SetCookie[] {
  const raw = res.headers['set-cookie'];
  const lines = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  return lines.map((line) => {
    const [pair = '', ...attrs] = line.split(';').map((s) => s.trim());
    const eq = pair.indexOf('=');
    const attributes = new Map<string, string>();
    for (const a of attrs) {
      const i = a.indexOf('=');
      attributes.set((i < 0 ? a : a.slice(0, i)).toLowerCase(), i < 0 ? '' : a.slice(i + 1));
    }
    return { name: pair.slice(0, eq), value: pair.slice(eq + 1), attributes };
  });
}

const emailOptions = (mailbox: Mailbox) =>
  configure(emailPlugin, { transport: 'smtp', smtpUrl: mailbox.url, publicAppUrl: APP, pollIntervalMs: 50, retryBaseDelayMs: 20 });

/** Requests and account helpers bound to one test kernel. */
function client(t: () => TestKernel, mailbox: () => Mailbox) {
  const post = (url: string, payload?: unknown, headers: Record<string, string> = {}) =>
    t().inject({ method: 'POST', url, headers, ...(payload !== undefined && { payload: payload as object }) });
  const newEmail = (label: string) => `${label}-${randomBytes(5).toString('hex')}@example.test`;
  const register = async (email: string, password = PASSWORD) => {
    const res = await post('/v1/auth/register', { email, password, displayName: 'Test User' });
    assert.equal(res.statusCode, 202, res.body);
  };
  const registerVerified = async (email: string, password = PASSWORD) => {
    await register(email, password);
    const token = linkToken(await mailbox().waitFor(email, /Confirm your email/), APP, '/verify-email');
    const res = await post('/v1/auth/verify-email', { token });
    assert.equal(res.statusCode, 200, res.body);
  };
  const login = async (email: string, password = PASSWORD, headers: Record<string, string> = {}): Promise<TokenPair> => {
    const res = await post('/v1/auth/login', { email, password }, headers);
    assert.equal(res.statusCode, 200, res.body);
    return res.json() as TokenPair;
  };
  return { post, newEmail, register, registerVerified, login };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });


describe('auth sessions', () => {
  let mailbox: Mailbox;
  let t: TestKernel;
  const { post, newEmail, register, registerVerified, login } = client(
    () => t,
    () => mailbox,
  );
  const me = (accessToken: string, headers: Record<string, string> = {}) => t.inject({ url: '/v1/me', headers: { ...bearer(accessToken), ...headers } });
  const expectUnauthenticated = (res: Response) => {
    expectProblem(res, 401, 'unauthenticated');
    assert.equal(res.headers['www-authenticate'], 'Bearer');
  };

  before(async () => {
    mailbox = await startMailbox();
    t = await createTestKernel({
      plugins: [authPlugin, emailOptions(mailbox)],
      env: { JWT_SECRET, ALLOWED_ORIGINS: 'https://app.empulse.test' },
      http: { trustedProxies: ['127.0.0.1'] },
    });
  });
  after(async () => {
    try {
      await t?.close();
    } finally {
      await mailbox?.close();
    }
  });

  describe('login', () => {
    it('refuses an unverified account with 403 email_not_verified, but only for the right password', async () => {
      const email = newEmail('unverified');
      await register(email);
      expectProblem(await post('/v1/auth/login', { email, password: PASSWORD }), 403, 'email_not_verified');
      expectProblem(await post('/v1/auth/login', { email, password: 'wrong password entirely' }), 401, 'invalid_credentials');
    });

    it('answers an unknown email and a wrong password identically (401 invalid_credentials), but for the request id', async () => {
      const email = newEmail('known');
      await registerVerified(email);
      const wrong = await post('/v1/auth/login', { email, password: 'wrong password entirely' });
      const unknown = await post('/v1/auth/login', { email: newEmail('unknown'), password: 'wrong password entirely' });
      const a = expectProblem(wrong, 401, 'invalid_credentials');
      const b = expectProblem(unknown, 401, 'invalid_credentials');
      assert.notEqual(a.requestId, b.requestId);
      assert.deepEqual({ ...a, requestId: undefined }, { ...b, requestId: undefined });
      assert.equal(wrong.headers['content-type'], unknown.headers['content-type']);
      assert.equal(wrong.headers['www-authenticate'], unknown.headers['www-authenticate']);
    });

    it('returns a TokenPair (Bearer, 900 s, refresh token, public user) and /v1/me answers with the user', async () => {
      const email = newEmail('pair');
      await registerVerified(email);
      const res = await post('/v1/auth/login', { email, password: PASSWORD });
      assert.equal(res.statusCode, 200, res.body);
      assert.match(String(res.headers['content-type']), /^application\/json/);
      assert.match(String(res.headers['cache-control']), /no-store/);
      assert.equal(res.headers['set-cookie'], undefined, 'no cookies outside cookie mode');
      const pair = res.json() as TokenPair;
      assert.deepEqual(Object.keys(pair).sort(), ['accessToken', 'expiresIn', 'refreshToken', 'tokenType', 'user']);
      assert.equal(pair.tokenType, 'Bearer');
      assert.equal(pair.expiresIn, 900);
      assert.match(pair.accessToken, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
      assert.equal(typeof pair.refreshToken, 'string');
      assert.ok(pair.refreshToken.length >= 22);
      assert.notEqual(pair.refreshToken, pair.accessToken);
      assert.deepEqual(Object.keys(pair.user).sort(), ['createdAt', 'displayName', 'email', 'emailVerified', 'id', 'role']);
      assert.equal(pair.user.email, email);
      assert.equal(pair.user.emailVerified, true);
      assert.doesNotMatch(res.body, /hash|argon|password/i);
      const claims = decodeJwt(pair.accessToken);
      assert.equal(claims.sub, pair.user.id);
      assert.equal(Number(claims.exp) - Number(claims.iat), 900);

      const who = await me(pair.accessToken);
      assert.equal(who.statusCode, 200, who.body);
      assert.deepEqual(who.json(), pair.user);
    });

    it('rejects a missing, malformed, wrongly signed or expired access token with 401 unauthenticated and WWW-Authenticate: Bearer', async () => {
      const email = newEmail('tokens');
      await registerVerified(email);
      const pair = await login(email);
      const claims = decodeJwt(pair.accessToken);
      const header = decodeProtectedHeader(pair.accessToken);
      const forge = (key: Uint8Array, exp: number, iat = exp - 900) =>
        new SignJWT({ sid: claims.sid, role: claims.role })
          .setProtectedHeader({ alg: 'HS256', typ: header.typ ?? 'at+jwt' })
          .setSubject(String(claims.sub))
          .setIssuer(String(claims.iss))
          .setAudience(claims.aud as string | string[])
          .setIssuedAt(iat)
          .setExpirationTime(exp)
          .sign(key);
      const now = Math.floor(Date.now() / 1000);
      const secret = new TextEncoder().encode(JWT_SECRET);
      // The forger gets every claim right: only the key or the time is wrong.
      const sameKeyValid = await forge(secret, now + 600);
      assert.equal((await me(sameKeyValid)).statusCode, 200, 'the forged token is right but for what each case changes');

      expectUnauthenticated(await t.inject({ url: '/v1/me' }));
      expectUnauthenticated(await me('garbage'));
      expectUnauthenticated(await t.inject({ url: '/v1/me', headers: { authorization: `Basic ${btoa('a:b')}` } }));
      expectUnauthenticated(await me(`${pair.accessToken.slice(0, -4)}AAAA`));
      expectUnauthenticated(await me(await forge(new TextEncoder().encode('another-secret-of-forty-characters-or-more!!'), now + 600)));
      expectUnauthenticated(await me(await forge(secret, now - 60)));
      const [h, , s] = pair.accessToken.split('.');
      const none = `${btoa(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).replace(/=+$/, '')}.${pair.accessToken.split('.')[1]}.`;
      expectUnauthenticated(await me(none));
      expectUnauthenticated(await me(`${h}.${btoa(JSON.stringify({ ...claims, role: 'admin' })).replace(/=+$/, '')}.${s}`));
    });
  });

  describe('refresh', () => {
    it('rotates the refresh token; the spent one revokes the session (refresh_token_reused) and the rotated-in one then fails too', async () => {
      const email = newEmail('rotate');
      await registerVerified(email);
      const first = await login(email);

      const res = await post('/v1/auth/refresh', { refreshToken: first.refreshToken });
      assert.equal(res.statusCode, 200, res.body);
      assert.match(String(res.headers['cache-control']), /no-store/);
      const second = res.json() as TokenPair;
      assert.deepEqual(Object.keys(second).sort(), ['accessToken', 'expiresIn', 'refreshToken', 'tokenType', 'user']);
      assert.notEqual(second.refreshToken, first.refreshToken);
      assert.equal(second.user.id, first.user.id);
      assert.equal((await me(second.accessToken)).statusCode, 200);
      assert.equal(decodeJwt(second.accessToken).sid, decodeJwt(first.accessToken).sid, 'the same session');

      expectProblem(await post('/v1/auth/refresh', { refreshToken: first.refreshToken }), 401, 'refresh_token_reused');
      expectUnauthenticated(await me(second.accessToken));
      expectUnauthenticated(await me(first.accessToken));
      expectProblem(await post('/v1/auth/refresh', { refreshToken: second.refreshToken }), 401, 'invalid_refresh_token');

      // Other sessions of the user are not affected.
      const other = await login(email);
      assert.equal((await me(other.accessToken)).statusCode, 200);
    });

    it('an idle-expired or absolutely-expired session is over: its access token, its refresh token and the list drop it', async () => {
      const email = newEmail('expiry');
      await registerVerified(email);
      const idle = await login(email, PASSWORD, { 'user-agent': 'Idle/1' });
      const old = await login(email, PASSWORD, { 'user-agent': 'Old/1' });
      const live = await login(email, PASSWORD, { 'user-agent': 'Live/1' });
      const sql = (q: string, params: unknown[]) => t.kernel.database.orm.em.getConnection().execute(q, params);
      await sql(`update auth_sessions set idle_expires_at = now() - interval '1 second' where id = ?`, [decodeJwt(idle.accessToken).sid]);
      await sql(`update auth_sessions set absolute_expires_at = now() - interval '1 second' where id = ?`, [decodeJwt(old.accessToken).sid]);
      for (const s of [idle, old]) {
        expectUnauthenticated(await me(s.accessToken));
        expectProblem(await post('/v1/auth/refresh', { refreshToken: s.refreshToken }), 401, 'invalid_refresh_token');
      }
      const list = (await t.inject({ url: '/v1/auth/sessions', headers: bearer(live.accessToken) })).json() as { items: { userAgent: string }[] };
      assert.deepEqual(list.items.map((i) => i.userAgent), ['Live/1']);
    });

    it('refuses unknown and missing refresh tokens', async () => {
      expectProblem(await post('/v1/auth/refresh', { refreshToken: randomBytes(32).toString('base64url') }), 401, 'invalid_refresh_token');
      expectProblem(await post('/v1/auth/refresh', {}), 422, 'validation_failed');
    });

    it('lets exactly one of 5 concurrent refreshes of one token succeed', async () => {
      const email = newEmail('concurrent');
      await registerVerified(email);
      const pair = await login(email);
      const results = await Promise.all(Array.from({ length: 5 }, () => post('/v1/auth/refresh', { refreshToken: pair.refreshToken })));
      const ok = results.filter((r) => r.statusCode === 200);
      assert.equal(ok.length, 1, results.map((r) => `${r.statusCode} ${r.body}`).join('\n'));
      for (const r of results.filter((r) => r.statusCode !== 200)) {
        assert.equal(r.statusCode, 401, r.body);
        assert.ok(['refresh_token_reused', 'invalid_refresh_token'].includes((r.json() as { code: string }).code), r.body);
      }
    });
  });

  describe('logout and the session list', () => {
    it('logout revokes the current session only', async () => {
      const email = newEmail('logout');
      await registerVerified(email);
      const a = await login(email);
      const b = await login(email);
      expectUnauthenticated(await post('/v1/auth/logout'));
      const res = await post('/v1/auth/logout', undefined, bearer(a.accessToken));
      assert.equal(res.statusCode, 204, res.body);
      assert.equal(res.body, '');
      expectUnauthenticated(await me(a.accessToken));
      expectProblem(await post('/v1/auth/refresh', { refreshToken: a.refreshToken }), 401, 'invalid_refresh_token');
      expectUnauthenticated(await post('/v1/auth/logout', undefined, bearer(a.accessToken)));
      assert.equal((await me(b.accessToken)).statusCode, 200);
    });

    it('logout-all revokes every session of the user, and no one else’s', async () => {
      const email = newEmail('logoutall');
      await registerVerified(email);
      const bystander = newEmail('bystander');
      await registerVerified(bystander);
      const theirs = await login(bystander);
      const sessions = [await login(email), await login(email), await login(email)];
      const res = await post('/v1/auth/logout-all', undefined, bearer(sessions[1]!.accessToken));
      assert.equal(res.statusCode, 204, res.body);
      for (const s of sessions) {
        expectUnauthenticated(await me(s.accessToken));
        expectProblem(await post('/v1/auth/refresh', { refreshToken: s.refreshToken }), 401, 'invalid_refresh_token');
      }
      expectUnauthenticated(await post('/v1/auth/logout-all', undefined, bearer(sessions[0]!.accessToken)));
      assert.equal((await me(theirs.accessToken)).statusCode, 200);
      await login(email); // logging in again works
    });

    it('lists the active sessions with exactly one current; DELETE revokes one of mine, and 404s for another user’s', async () => {
      const email = newEmail('lister');
      await registerVerified(email);
      const phone = await login(email, PASSWORD, { 'user-agent': 'PhoneApp/1.0' });
      const laptop = await login(email, PASSWORD, { 'user-agent': 'Laptop Browser/2.0' });
      const tablet = await login(email, PASSWORD, { 'user-agent': 'Tablet/3.0' });
      const spent = await login(email, PASSWORD, { 'user-agent': 'Gone/0.1' });
      await post('/v1/auth/logout', undefined, bearer(spent.accessToken));

      expectUnauthenticated(await t.inject({ url: '/v1/auth/sessions' }));
      const res = await t.inject({ url: '/v1/auth/sessions', headers: { ...bearer(laptop.accessToken), 'user-agent': 'Laptop Browser/2.0' } });
      assert.equal(res.statusCode, 200, res.body);
      const { items } = res.json() as { items: Record<string, unknown>[] };
      assert.equal(items.length, 3, res.body);
      for (const item of items) {
        assert.deepEqual(Object.keys(item).sort(), ['createdAt', 'current', 'id', 'ip', 'lastUsedAt', 'userAgent']);
        assert.equal(typeof item.id, 'string');
        assert.equal(new Date(item.createdAt as string).toISOString(), item.createdAt);
        assert.equal(new Date(item.lastUsedAt as string).toISOString(), item.lastUsedAt);
        assert.equal(item.ip, '127.0.0.1');
        assert.equal(typeof item.current, 'boolean');
      }
      assert.deepEqual(items.map((i) => i.userAgent).sort(), ['Laptop Browser/2.0', 'PhoneApp/1.0', 'Tablet/3.0']);
      const current = items.filter((i) => i.current);
      assert.equal(current.length, 1);
      assert.equal(current[0]!.userAgent, 'Laptop Browser/2.0');
      assert.doesNotMatch(res.body, /token|hash|csrf/i);

      // Another user cannot revoke (or learn about) my sessions.
      const intruderEmail = newEmail('intruder');
      await registerVerified(intruderEmail);
      const intruder = await login(intruderEmail);
      const phoneId = items.find((i) => i.userAgent === 'PhoneApp/1.0')!.id as string;
      const tabletId = items.find((i) => i.userAgent === 'Tablet/3.0')!.id as string;
      expectProblem(await t.inject({ method: 'DELETE', url: `/v1/auth/sessions/${phoneId}`, headers: bearer(intruder.accessToken) }), 404, 'not_found');
      assert.equal((await me(phone.accessToken)).statusCode, 200);
      expectProblem(await t.inject({ method: 'DELETE', url: '/v1/auth/sessions/not-a-session', headers: bearer(laptop.accessToken) }), 404, 'not_found');
      expectUnauthenticated(await t.inject({ method: 'DELETE', url: `/v1/auth/sessions/${phoneId}` }));

      const del = await t.inject({ method: 'DELETE', url: `/v1/auth/sessions/${phoneId}`, headers: bearer(laptop.accessToken) });
      assert.equal(del.statusCode, 204, del.body);
      expectUnauthenticated(await me(phone.accessToken));
      expectProblem(await post('/v1/auth/refresh', { refreshToken: phone.refreshToken }), 401, 'invalid_refresh_token');
      expectProblem(await t.inject({ method: 'DELETE', url: `/v1/auth/sessions/${phoneId}`, headers: bearer(laptop.accessToken) }), 404, 'not_found');
      assert.equal((await me(laptop.accessToken)).statusCode, 200);
      assert.equal((await me(tablet.accessToken)).statusCode, 200);

      const after = (await t.inject({ url: '/v1/auth/sessions', headers: bearer(tablet.accessToken) })).json() as { items: { id: string; current: boolean }[] };
      assert.equal(after.items.length, 2);
      assert.deepEqual(after.items.filter((i) => i.current).map((i) => i.id), [tabletId]);
    });
  });

  describe('cookie mode', () => {
    const cookieHeader = (cookies: Record<string, string>) =>
      Object.entries(cookies)
        .map(([k, v]) => `${k}=${v}`)
        .join('; ');

    const cookieLogin = async (email: string) => {
      const res = await post('/v1/auth/login?mode=cookie', { email, password: PASSWORD });
      assert.equal(res.statusCode, 200, res.body);
      const cookies = parseSetCookies(res);
      const refresh = cookies.find((c) => c.name === REFRESH_COOKIE);
      const csrf = cookies.find((c) => c.name !== REFRESH_COOKIE);
      assert.ok(refresh && csrf, JSON.stringify(res.headers['set-cookie']));
      return { res, refresh, csrf, body: res.json() as Omit<TokenPair, 'refreshToken'> & { refreshToken?: string } };
    };

    it('login sets an HttpOnly, Secure, SameSite=Strict refresh cookie on /v1/auth and a readable CSRF cookie; the body has no refresh token', async () => {
      const email = newEmail('cookie');
      await registerVerified(email);
      const { res, refresh, csrf, body } = await cookieLogin(email);
      assert.equal(refresh.attributes.get('path'), '/v1/auth');
      assert.ok(refresh.attributes.has('httponly'));
      assert.ok(refresh.attributes.has('secure'));
      assert.equal(refresh.attributes.get('samesite')?.toLowerCase(), 'strict');
      assert.ok(refresh.value.length >= 22);
      assert.ok(!csrf.attributes.has('httponly'), 'the page must be able to read the CSRF token');
      assert.ok(csrf.attributes.has('secure'));
      assert.ok(csrf.value.length >= 22);
      assert.notEqual(csrf.value, refresh.value);
      assert.equal(body.refreshToken, undefined);
      assert.ok(!res.body.includes(refresh.value), 'the refresh token is not in the body');
      assert.equal(body.tokenType, 'Bearer');
      assert.equal(body.expiresIn, 900);
      assert.equal((await me(body.accessToken)).statusCode, 200);
    });

    it('refresh by cookie needs the CSRF header, a same-site request and an allowed origin; then rotates the cookie', async () => {
      const email = newEmail('csrf');
      await registerVerified(email);
      const { refresh, csrf, body } = await cookieLogin(email);
      const cookie = cookieHeader({ [REFRESH_COOKIE]: refresh.value, [csrf.name]: csrf.value });
      const attempt = (headers: Record<string, string>) => post('/v1/auth/refresh', {}, { cookie, ...headers });

      expectProblem(await attempt({}), 403, 'csrf_failed');
      expectProblem(await attempt({ 'x-csrf-token': randomBytes(32).toString('base64url') }), 403, 'csrf_failed');
      expectProblem(await attempt({ 'x-csrf-token': csrf.value, 'sec-fetch-site': 'cross-site' }), 403, 'csrf_failed');
      // The CSRF token is bound to its session: another cookie session's token does not fit.
      const stranger = await cookieLogin(email);
      expectProblem(
        await post('/v1/auth/refresh', {}, { cookie: cookieHeader({ [REFRESH_COOKIE]: refresh.value, [csrf.name]: stranger.csrf.value }), 'x-csrf-token': stranger.csrf.value }),
        403,
        'csrf_failed',
      );
      assert.equal((await me(body.accessToken)).statusCode, 200, 'refused attempts spend nothing');

      const ok = await attempt({ 'x-csrf-token': csrf.value, origin: 'https://app.empulse.test', 'sec-fetch-site': 'same-site' });
      assert.equal(ok.statusCode, 200, ok.body);
      const rotated = parseSetCookies(ok).find((c) => c.name === REFRESH_COOKIE);
      assert.ok(rotated, 'a new refresh cookie');
      assert.notEqual(rotated.value, refresh.value);
      assert.ok(rotated.attributes.has('httponly'));
      assert.equal(rotated.attributes.get('path'), '/v1/auth');
      const pair = ok.json() as { accessToken: string; refreshToken?: string };
      assert.equal(pair.refreshToken, undefined);
      assert.ok(!ok.body.includes(rotated.value));
      assert.equal((await me(pair.accessToken)).statusCode, 200);

      // The rotated cookie works the same way (the CSRF token stays bound to the session).
      const again = await post('/v1/auth/refresh', {}, { cookie: cookieHeader({ [REFRESH_COOKIE]: rotated.value, [csrf.name]: csrf.value }), 'x-csrf-token': csrf.value });
      assert.equal(again.statusCode, 200, again.body);
    });

    it('refuses a cookie-mode login from another site (login CSRF), but not a bearer login', async () => {
      const email = newEmail('login-csrf');
      await registerVerified(email);
      expectProblem(await post('/v1/auth/login?mode=cookie', { email, password: PASSWORD }, { 'sec-fetch-site': 'cross-site' }), 403, 'csrf_failed');
      expectProblem(await post('/v1/auth/login?mode=cookie', { email, password: PASSWORD }, { origin: 'https://evil.example' }), 403, 'csrf_failed');
      const allowed = await post('/v1/auth/login?mode=cookie', { email, password: PASSWORD }, { origin: 'https://app.empulse.test', 'sec-fetch-site': 'same-site' });
      assert.equal(allowed.statusCode, 200, allowed.body);
      const bearer = await post('/v1/auth/login', { email, password: PASSWORD }, { 'sec-fetch-site': 'cross-site' });
      assert.equal(bearer.statusCode, 200, 'bearer logins carry no ambient credentials, so they need no CSRF defence');
    });

    it('refuses cookie refresh and logout from an origin that is neither the API’s own nor allowed', async () => {
      const email = newEmail('evil-origin');
      await registerVerified(email);
      const { refresh, csrf, body } = await cookieLogin(email);
      const headers = { cookie: cookieHeader({ [REFRESH_COOKIE]: refresh.value, [csrf.name]: csrf.value }), 'x-csrf-token': csrf.value };
      expectProblem(await post('/v1/auth/refresh', {}, { ...headers, origin: 'https://evil.example' }), 403, 'csrf_failed');
      expectProblem(await post('/v1/auth/refresh', {}, { ...headers, origin: 'null' }), 403, 'csrf_failed');
      expectProblem(await post('/v1/auth/logout', undefined, { ...headers, origin: 'https://evil.example' }), 403, 'csrf_failed');
      assert.equal((await me(body.accessToken)).statusCode, 200, 'the session is untouched');
      // The allowed origin passes with the same cookies and token.
      const ok = await post('/v1/auth/refresh', {}, { ...headers, origin: 'https://app.empulse.test' });
      assert.equal(ok.statusCode, 200, ok.body);
    });

    it('refresh by cookie works without a JSON body, as a browser sends it', async () => {
      const email = newEmail('nobody-body');
      await registerVerified(email);
      const { refresh, csrf } = await cookieLogin(email);
      const res = await post('/v1/auth/refresh', undefined, {
        cookie: cookieHeader({ [REFRESH_COOKIE]: refresh.value, [csrf.name]: csrf.value }),
        'x-csrf-token': csrf.value,
      });
      assert.equal(res.statusCode, 200, res.body);
    });

    it('accepts a same-origin cookie request behind a trusted TLS proxy', async () => {
      const email = newEmail('same-origin');
      await registerVerified(email);
      const { refresh, csrf } = await cookieLogin(email);
      const res = await post('/v1/auth/refresh', {}, {
        cookie: cookieHeader({ [REFRESH_COOKIE]: refresh.value, [csrf.name]: csrf.value }),
        'x-csrf-token': csrf.value,
        host: 'api.empulse.test',
        'x-forwarded-proto': 'https',
        origin: 'https://api.empulse.test',
        'sec-fetch-site': 'same-origin',
      });
      assert.equal(res.statusCode, 200, res.body);
    });

    it('logout by cookie needs the CSRF token, then revokes the session and clears the cookies', async () => {
      const email = newEmail('cookie-logout');
      await registerVerified(email);
      const { refresh, csrf, body } = await cookieLogin(email);
      const cookie = cookieHeader({ [REFRESH_COOKIE]: refresh.value, [csrf.name]: csrf.value });
      expectProblem(await post('/v1/auth/logout', undefined, { cookie }), 403, 'csrf_failed');
      expectProblem(await post('/v1/auth/logout', undefined, { cookie, 'x-csrf-token': csrf.value, 'sec-fetch-site': 'cross-site' }), 403, 'csrf_failed');
      assert.equal((await me(body.accessToken)).statusCode, 200);

      const res = await post('/v1/auth/logout', undefined, { cookie, 'x-csrf-token': csrf.value });
      assert.equal(res.statusCode, 204, res.body);
      const cleared = parseSetCookies(res);
      for (const name of [REFRESH_COOKIE, csrf.name]) {
        const c = cleared.find((x) => x.name === name);
        assert.ok(c, `${name} is cleared`);
        assert.equal(c.value, '');
        assert.equal(c.attributes.get('max-age'), '0');
      }
      expectUnauthenticated(await me(body.accessToken));
      expectProblem(await post('/v1/auth/refresh', {}, { cookie, 'x-csrf-token': csrf.value }), 401, 'invalid_refresh_token');
    });

    it('a bearer-authenticated request needs no CSRF token, even from a cookie-mode session', async () => {
      const email = newEmail('cookie-bearer');
      await registerVerified(email);
      const { refresh, csrf, body } = await cookieLogin(email);
      const sessions = await t.inject({ url: '/v1/auth/sessions', headers: bearer(body.accessToken) });
      assert.equal(sessions.statusCode, 200);
      const res = await post('/v1/auth/logout', undefined, { ...bearer(body.accessToken), cookie: cookieHeader({ [REFRESH_COOKIE]: refresh.value, [csrf.name]: csrf.value }) });
      assert.equal(res.statusCode, 204, res.body);
      expectUnauthenticated(await me(body.accessToken));
    });
  });
});

describe('JWKS', () => {
  let mailbox: Mailbox;
  before(async () => {
    mailbox = await startMailbox();
  });
  after(() => mailbox?.close());

  it('answers 404 when access tokens are signed with a shared secret', async () => {
    const t = await createTestKernel({ plugins: [authPlugin, emailOptions(mailbox)], env: { JWT_SECRET } });
    try {
      expectProblem(await t.inject({ url: '/.well-known/jwks.json' }), 404, 'not_found');
    } finally {
      await t.close();
    }
  });

  const keyCases: { name: string; alg: 'EdDSA' | 'ES256'; kty: string; crv: string; material: () => Promise<string> }[] = [
    {
      name: 'an EdDSA PKCS#8 PEM',
      alg: 'EdDSA',
      kty: 'OKP',
      crv: 'Ed25519',
      material: async () => exportPKCS8((await generateKeyPair('EdDSA', { extractable: true })).privateKey),
    },
    {
      name: 'an ES256 JWK',
      alg: 'ES256',
      kty: 'EC',
      crv: 'P-256',
      material: async () => JSON.stringify(await exportJWK((await generateKeyPair('ES256', { extractable: true })).privateKey)),
    },
  ];

  for (const c of keyCases) {
    it(`serves the public key of ${c.name} with a kid, and access tokens verify against it`, async () => {
      const t = await createTestKernel({ plugins: [authPlugin, emailOptions(mailbox)], env: { JWT_PRIVATE_KEY: await c.material() } });
      const { post, newEmail, registerVerified, login } = client(
        () => t,
        () => mailbox,
      );
      try {
        const res = await t.inject({ url: '/.well-known/jwks.json' });
        assert.equal(res.statusCode, 200, res.body);
        const jwks = res.json() as { keys: JWK[] };
        assert.equal(jwks.keys.length, 1);
        const key = jwks.keys[0]!;
        assert.equal(key.kty, c.kty);
        assert.equal(key.crv, c.crv);
        assert.equal(key.alg, c.alg);
        assert.equal(typeof key.kid, 'string');
        assert.ok(key.kid!.length > 0);
        assert.equal(key.d, undefined, 'no private part');

        const email = newEmail(c.alg.toLowerCase());
        await registerVerified(email);
        const pair = await login(email);
        const header = decodeProtectedHeader(pair.accessToken);
        assert.equal(header.alg, c.alg);
        assert.equal(header.kid, key.kid);
        const { payload } = await jwtVerify(pair.accessToken, createLocalJWKSet(jwks), { algorithms: [c.alg] });
        assert.equal(payload.sub, pair.user.id);
        assert.ok(Number(payload.exp) > Date.now() / 1000);
        assert.equal((await t.inject({ url: '/v1/me', headers: bearer(pair.accessToken) })).statusCode, 200);

        // An HS256 token "signed" with the public key (algorithm confusion) is refused.
        const claims = decodeJwt(pair.accessToken);
        const confused = await new SignJWT({ ...claims })
          .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: key.kid! })
          .sign(new TextEncoder().encode(JSON.stringify(key)));
        const refused = await t.inject({ url: '/v1/me', headers: bearer(confused) });
        expectProblem(refused, 401, 'unauthenticated');
        const refreshed = await post('/v1/auth/refresh', { refreshToken: pair.refreshToken });
        assert.equal(refreshed.statusCode, 200, refreshed.body);
        await jwtVerify((refreshed.json() as TokenPair).accessToken, createLocalJWKSet(jwks));
      } finally {
        await t.close();
      }
    });
  }
});
