/**
 * What the auth plugin adds to the OpenAPI document (when the openapi plugin is enabled): its
 * security schemes, and on every route that declares `auth` (its own and other plugins') which
 * credentials it takes. The core only knows `auth: 'required' | 'optional'`; that these mean a
 * bearer JWT, and that refresh and logout also take the refresh cookie, is this plugin's to say.
 */
import { defineRouteMeta, type RouteDefinition } from '../../core/index.ts';
import type { OperationDecoration } from '../openapi/contract.ts';
import { CSRF_COOKIE, REFRESH_COOKIE } from './cookie-mode.ts';

/**
 * Declared by auth's routes that also take the refresh cookie (cookie mode): refresh and logout.
 * Only this plugin reads it, for the document.
 */
export const takesRefreshCookie = defineRouteMeta<true>('auth.refresh-cookie');

const BEARER = {
  type: 'http',
  scheme: 'bearer',
  bearerFormat: 'JWT',
  description: 'An access token from login or refresh (15 minutes by default); its session is checked on every request.',
};

const REFRESH_COOKIE_SCHEME = {
  type: 'apiKey',
  in: 'cookie',
  name: REFRESH_COOKIE,
  description: `Cookie mode (login with ?mode=cookie): the refresh token, HttpOnly; Secure; SameSite=Strict; Path=/v1/auth. Requests that use it must echo the ${CSRF_COOKIE} cookie in X-CSRF-Token (403 csrf_failed otherwise).`,
};

const CSRF_HEADER = {
  name: 'X-CSRF-Token',
  in: 'header',
  required: false,
  description: `With the refresh cookie only: the value of the ${CSRF_COOKIE} cookie (403 csrf_failed when missing or wrong). Bearer and body-token requests need none.`,
  schema: { type: 'string' },
};

export function describeAuth({ route, operation, components, addProblem }: OperationDecoration): void {
  const cookie = takesRefreshCookie.read(route) === true;
  const auth = route.options.auth;
  if (auth) components.securitySchemes.bearer = BEARER;
  if (cookie) components.securitySchemes.refreshCookie = REFRESH_COOKIE_SCHEME;
  const security = securityOf(auth, cookie);
  if (security) operation.security = security;
  if (cookie) operation.parameters = [...((operation.parameters as unknown[] | undefined) ?? []), CSRF_HEADER];
  if (auth === 'required' || (auth && lists(route, 'unauthenticated'))) {
    addProblem('unauthenticated', { headers: { 'WWW-Authenticate': 'Bearer (RFC 6750): the token is missing, invalid or expired, or its session was revoked' } });
  }
}

/**
 * Alternatives, any one of which the route accepts: `{}` is "no credentials" (a refresh token in
 * the body, or an anonymous caller of an `optional` route). Routes without `auth` keep the
 * document's default (none).
 */
function securityOf(auth: RouteDefinition['options']['auth'], cookie: boolean): Record<string, string[]>[] | undefined {
  if (auth === 'required') return cookie ? [{ bearer: [] }, { refreshCookie: [] }] : [{ bearer: [] }];
  if (auth === 'optional') return cookie ? [{ bearer: [] }, { refreshCookie: [] }] : [{ bearer: [] }, {}];
  return cookie ? [{}, { refreshCookie: [] }] : undefined;
}

const lists = (route: RouteDefinition, code: string): boolean => route.options.problems?.includes(code) ?? false;
