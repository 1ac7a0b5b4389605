/** The auth plugin's HTTP surface (API.md, "auth plugin"). */
import * as v from 'valibot';
import { coreProblems, type HttpContext, type PluginRouter } from '../../core/index.ts';
import { rateLimit } from '../ratelimit/contract.ts';
import { assertCsrf, assertSameSiteRequest, clearSessionCookies, readCookie, REFRESH_COOKIE, setSessionCookies } from './cookie-mode.ts';
import type { RequestMeta } from './deps.ts';
import type { AuthEngine } from './engine.ts';
import { takesRefreshCookie } from './openapi.ts';
import { MAX_LENGTH, MIN_LENGTH, normalizePassword } from './password-policy.ts';
import { Accepted, Jwks, SessionList, TokenPair, User, VerificationSent, VerifiedUser } from './schemas.ts';
import type { IssuedSession } from './sessions.ts';

const Email = v.pipe(v.string(), v.trim(), v.maxLength(320), v.email('must be an email address'));
const Password = v.pipe(v.string(), v.minLength(1, 'is required'), v.maxLength(4096));
const Token = v.pipe(v.string(), v.minLength(1, 'is required'), v.maxLength(200));

/**
 * A body whose other fields fail also lists its password's length problem, so one 422 says
 * everything to fix. Alone, a password of the wrong length stays 422 weak_password, decided
 * with the other password rules (common, guessable) once the body is valid.
 */
function withPasswordLength<S extends v.GenericSchema<unknown, Record<string, unknown>>>(schema: S, key: string) {
  return v.pipe(
    schema,
    v.rawCheck(({ dataset, addIssue }) => {
      const body = dataset.value as Record<string, unknown> | undefined;
      const value = body?.[key];
      if (!dataset.issues || typeof value !== 'string') return;
      const length = [...normalizePassword(value)].length;
      const message = length < MIN_LENGTH ? `must be at least ${MIN_LENGTH} characters` : length > MAX_LENGTH ? `must be at most ${MAX_LENGTH} characters` : undefined;
      if (message) addIssue({ message, path: [{ type: 'object', origin: 'value', input: body!, key, value }] });
    }),
  );
}

const Register = withPasswordLength(v.object({ email: Email, password: v.string(), displayName: v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(100)) }), 'password');
const Login = v.object({ email: Email, password: Password });
const EmailOnly = v.object({ email: Email });
const TokenOnly = v.object({ token: Token });
// Optional as a whole: a browser refreshing by cookie may send no body at all.
const Refresh = v.optional(v.object({ refreshToken: v.optional(Token) }));
const Reset = withPasswordLength(v.object({ token: Token, password: v.string() }), 'password');
const Change = withPasswordLength(v.object({ currentPassword: Password, newPassword: v.string() }), 'newPassword');
// Any value but "cookie" (or none, or a repeated key) means tokens in the body, as always: the
// fallback keeps that lenient instead of answering 422.
const LoginQuery = v.object({
  mode: v.fallback(
    v.optional(v.pipe(v.picklist(['cookie']), v.description('"cookie": browser cookie mode. The refresh token is set in the HttpOnly __Secure-empulse_refresh cookie and left out of the body, and a CSRF token is set in __Host-empulse_csrf; the request must not be cross-site. Any other value: tokens in the body.'))),
    undefined,
  ),
});
const SESSION_HEADERS = { 'Cache-Control': 'no-store' };
const COOKIE_HEADERS = { ...SESSION_HEADERS, 'Set-Cookie': 'Cookie mode only: __Secure-empulse_refresh (the refresh token) and __Host-empulse_csrf (the CSRF token)' };

const meta = (http: HttpContext): RequestMeta => ({
  ip: http.ip,
  userAgent: http.get('user-agent') || undefined,
  requestId: http.state.requestId,
});

export function registerAuthRoutes(router: PluginRouter, engine: () => AuthEngine): void {
  const respondWithSession = (http: HttpContext, issued: IssuedSession, cookieMode: boolean) => {
    const e = engine();
    http.set('Cache-Control', 'no-store');
    if (cookieMode) {
      setSessionCookies(http, issued.pair.refreshToken, issued.csrfToken, e.deps.config.refreshIdleTtlSeconds);
      const { refreshToken: _kept, ...body } = issued.pair; // HttpOnly means the page never sees it
      http.body = body;
    } else {
      http.body = issued.pair;
    }
  };

  router.post('/v1/auth/register', { body: Register, meta: [rateLimit({ group: 'auth.register', limit: 10, windowSeconds: 3600 })], summary: 'Create an account (202 whether or not it exists)', responses: { 202: { description: 'The same for existing emails (whose owner gets an "account already exists" email)', body: VerificationSent } }, problems: ['weak_password'] }, async (http) => {
    await engine().accounts.register(http.state.body, meta(http));
    http.status = 202;
    http.body = { status: 'verification_sent' };
  });

  router.post('/v1/auth/verify-email', { body: TokenOnly, summary: 'Confirm an email address', responses: { 200: { description: 'The email is confirmed', body: VerifiedUser } }, problems: ['invalid_token'] }, async (http) => {
    http.body = { user: await engine().accounts.verifyEmail(http.state.body.token) };
  });

  router.post('/v1/auth/resend-verification', { body: EmailOnly, meta: [rateLimit({ group: 'auth.resend-verification', limit: 10, windowSeconds: 900 })], summary: 'Send the verification link again (202 always)', responses: { 202: { description: 'Whether or not the account exists; the work happens after the response', body: Accepted } } }, async (http) => {
    const m = meta(http);
    engine().inBackground(m.requestId, () => engine().accounts.resendVerification(http.state.body.email, m));
    http.status = 202;
    http.body = { status: 'accepted' };
  });

  router.post('/v1/auth/login', { body: Login, query: LoginQuery, meta: [rateLimit({ group: 'auth.login', limit: 20, windowSeconds: 300 })], summary: 'Log in (add ?mode=cookie for browser cookie mode)', description: 'Cookie mode sets the refresh token in __Secure-empulse_refresh (HttpOnly; Secure; SameSite=Strict; Path=/v1/auth) and the CSRF token in __Host-empulse_csrf, and leaves refreshToken out of the JSON body (API.md does not say; HttpOnly would be pointless otherwise).', responses: { 200: { description: 'A new session (cookie mode: without refreshToken, which is set as a cookie)', body: TokenPair, headers: COOKIE_HEADERS } }, problems: ['invalid_credentials', 'email_not_verified', 'account_locked', 'csrf_failed'] }, async (http) => {
    const cookieMode = http.state.query.mode === 'cookie';
    if (cookieMode) assertSameSiteRequest(http, engine().deps.config.allowedOrigins);
    const issued = await engine().sessions.login(http.state.body.email, http.state.body.password, meta(http), cookieMode);
    respondWithSession(http, issued, cookieMode);
  });

  router.post('/v1/auth/refresh', { body: Refresh, meta: [takesRefreshCookie(true)], summary: 'Exchange a refresh token for a new pair', description: 'Send { refreshToken }, or (cookie mode) no body with the refresh cookie and X-CSRF-Token. The presented token is spent; presenting it again revokes the session.', responses: { 200: { description: 'A new pair (cookie mode: without refreshToken, which is set as a cookie)', body: TokenPair, headers: COOKIE_HEADERS } }, problems: ['invalid_refresh_token', 'refresh_token_reused', 'csrf_failed'] }, async (http) => {
    const e = engine();
    const fromBody = http.state.body?.refreshToken;
    const fromCookie = fromBody ? undefined : readCookie(http, REFRESH_COOKIE);
    const token = fromBody ?? fromCookie;
    if (!token) throw coreProblems.validation_failed('Send refreshToken in the body, or the refresh cookie.', { errors: [{ path: 'refreshToken', message: 'is required' }] });
    if (fromCookie) {
      const session = await e.sessions.sessionOfRefreshToken(fromCookie);
      await assertCsrf(http, session?.csrfHash ?? null, e.deps.config.allowedOrigins);
    }
    const issued = await e.sessions.refresh(token, meta(http));
    respondWithSession(http, issued, fromCookie !== undefined);
  });

  router.post('/v1/auth/logout', { auth: 'optional', meta: [takesRefreshCookie(true)], summary: 'Revoke the current session', description: 'Bearer token, or (cookie mode) the refresh cookie with X-CSRF-Token.', responses: { 204: 'Revoked' }, problems: ['unauthenticated', 'csrf_failed'] }, async (http) => {
    const e = engine();
    const principal = await e.authenticate(http);
    if (principal) {
      await e.sessions.revoke(principal.user.id, [principal.sessionId], 'logout');
    } else {
      const cookie = readCookie(http, REFRESH_COOKIE);
      const session = cookie ? await e.sessions.sessionOfRefreshToken(cookie) : undefined;
      if (!session) await e.requireUser(http); // answers 401 unauthenticated
      await assertCsrf(http, session!.csrfHash ?? null, e.deps.config.allowedOrigins);
      await e.sessions.revoke(session!.userId, [session!.id], 'logout');
    }
    clearSessionCookies(http);
    http.status = 204;
  });

  router.post('/v1/auth/logout-all', { auth: 'required', summary: 'Revoke every session of the user', responses: { 204: 'Revoked' }, problems: ['unauthenticated'] }, async (http) => {
    const principal = await engine().requireUser(http);
    await engine().sessions.revoke(principal.user.id, 'all', 'logout_all');
    clearSessionCookies(http);
    http.status = 204;
  });

  router.get('/v1/auth/sessions', { auth: 'required', summary: "The user's active sessions", responses: { 200: { description: 'Every active session, in one page', body: SessionList, headers: SESSION_HEADERS } }, problems: ['unauthenticated'] }, async (http) => {
    const principal = await engine().requireUser(http);
    http.set('Cache-Control', 'no-store');
    http.body = { items: await engine().sessions.list(principal.user.id, principal.sessionId), nextCursor: null };
  });

  router.delete('/v1/auth/sessions/:id', { auth: 'required', summary: 'Revoke one of the user’s sessions', responses: { 204: 'Revoked' }, problems: ['unauthenticated', 'not_found'] }, async (http) => {
    const principal = await engine().requireUser(http);
    const id = http.params.id!;
    const revoked = /^[0-9a-f-]{36}$/i.test(id) ? await engine().sessions.revoke(principal.user.id, [id], 'revoked_by_user') : 0;
    if (revoked === 0) throw coreProblems.not_found('No active session with this id.');
    http.status = 204;
  });

  router.post('/v1/auth/forgot-password', { body: EmailOnly, meta: [rateLimit({ group: 'auth.forgot-password', limit: 10, windowSeconds: 900 })], summary: 'Email a reset link (202 always)', responses: { 202: { description: 'Whether or not the account exists; the work happens after the response', body: Accepted } } }, async (http) => {
    const m = meta(http);
    engine().inBackground(m.requestId, () => engine().accounts.forgotPassword(http.state.body.email, m));
    http.status = 202;
    http.body = { status: 'accepted' };
  });

  router.post('/v1/auth/reset-password', { body: Reset, summary: 'Set a new password with a reset token', responses: { 204: 'Password set; every session revoked; lockout cleared' }, problems: ['invalid_token', 'weak_password'] }, async (http) => {
    await engine().accounts.resetPassword(http.state.body.token, http.state.body.password, meta(http));
    http.status = 204;
  });

  router.post('/v1/auth/change-password', { auth: 'required', body: Change, summary: 'Change the password (other sessions are revoked)', responses: { 204: 'Password changed' }, problems: ['unauthenticated', 'invalid_credentials', 'weak_password'] }, async (http) => {
    const principal = await engine().requireUser(http);
    await engine().accounts.changePassword(principal.user.id, principal.sessionId, http.state.body.currentPassword, http.state.body.newPassword, meta(http));
    http.status = 204;
  });

  router.get('/v1/me', { auth: 'required', summary: 'The signed-in user', responses: { 200: { description: 'The caller', body: User, headers: SESSION_HEADERS } }, problems: ['unauthenticated'] }, async (http) => {
    const principal = await engine().requireUser(http);
    http.set('Cache-Control', 'no-store');
    http.body = principal.user;
  });

  router.get('/.well-known/jwks.json', { summary: 'Public keys of access tokens (asymmetric signing only)', description: 'Answers 404 not_found when tokens are signed with a shared secret (JWT_SECRET): there is no public key to publish.', responses: { 200: { description: 'The public keys', body: Jwks } }, problems: ['not_found'] }, (http) => {
    const jwks = engine().deps.tokens.jwks();
    if (!jwks) throw coreProblems.not_found('Access tokens are signed with a shared secret; there are no public keys.');
    http.set('Cache-Control', 'public, max-age=300');
    http.body = jwks;
  });
}
