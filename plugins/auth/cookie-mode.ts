/**
 * Cookie mode for browsers: the refresh token lives in an HttpOnly cookie scoped to /v1/auth, and
 * state-changing cookie requests must echo the CSRF token (a synchroniser token bound to the
 * session, stored hashed) in X-CSRF-Token, come from an allowed origin, and not be cross-site.
 *
 * Browsers keep Secure cookies from http://localhost, so development over plain HTTP works on
 * localhost; any other host needs TLS, as production does anyway.
 */
import type { HttpContext } from '../../core/index.ts';
import { authProblems } from './problems.ts';
import { constantTimeEqual, sha256Hex } from './secrets.ts';

/** `__Secure-` (not `__Host-`): the contract scopes the refresh cookie to Path=/v1/auth. */
export const REFRESH_COOKIE = '__Secure-empulse_refresh';
/** Readable by the page, which echoes it in X-CSRF-Token. */
export const CSRF_COOKIE = '__Host-empulse_csrf';

export function setSessionCookies(http: HttpContext, refreshToken: string, csrfToken: string | undefined, maxAgeSeconds: number): void {
  http.append('Set-Cookie', `${REFRESH_COOKIE}=${refreshToken}; Path=/v1/auth; Max-Age=${maxAgeSeconds}; HttpOnly; Secure; SameSite=Strict`);
  if (csrfToken) http.append('Set-Cookie', `${CSRF_COOKIE}=${csrfToken}; Path=/; Max-Age=${maxAgeSeconds}; Secure; SameSite=Strict`);
}

export function clearSessionCookies(http: HttpContext): void {
  http.append('Set-Cookie', `${REFRESH_COOKIE}=; Path=/v1/auth; Max-Age=0; HttpOnly; Secure; SameSite=Strict`);
  http.append('Set-Cookie', `${CSRF_COOKIE}=; Path=/; Max-Age=0; Secure; SameSite=Strict`);
}

export function readCookie(http: HttpContext, name: string): string | undefined {
  const header = http.get('cookie');
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim() || undefined;
  }
  return undefined;
}

/**
 * Refuses a cross-site request (Fetch Metadata) or one from an origin that is neither ours nor
 * allowed. Applied to cookie-mode login too, so another site cannot log a browser into an
 * account of its choosing (login CSRF).
 */
export function assertSameSiteRequest(http: HttpContext, allowedOrigins: readonly string[]): void {
  const site = http.get('sec-fetch-site');
  if (site && site !== 'same-origin' && site !== 'same-site' && site !== 'none') {
    throw authProblems.csrf_failed('Cross-site requests cannot use the session cookie.');
  }
  const origin = http.get('origin');
  const own = `${http.state.secure ? 'https' : 'http'}://${http.host}`;
  if (origin && origin !== own && !allowedOrigins.includes(origin)) {
    throw authProblems.csrf_failed('This origin may not use the session cookie.');
  }
}

/** Refuses a cookie-authenticated request that fails any CSRF defence (403 csrf_failed). */
export async function assertCsrf(http: HttpContext, csrfHash: string | null, allowedOrigins: readonly string[]): Promise<void> {
  assertSameSiteRequest(http, allowedOrigins);
  const header = http.get('x-csrf-token');
  const cookie = readCookie(http, CSRF_COOKIE);
  if (!header || !cookie || !csrfHash || !constantTimeEqual(header, cookie) || !constantTimeEqual(await sha256Hex(header), csrfHash)) {
    throw authProblems.csrf_failed('Send the CSRF token from the csrf cookie in the X-CSRF-Token header.');
  }
}
