/**
 * The auth service contract (provided by the auth plugin): who is calling, guards for other
 * plugins' routes, the hooks it emits, and the login gate extension point (used by lockout).
 */
import { createServiceRef, defineHook, type HttpContext } from '../../core/index.ts';

export type Role = 'artist' | 'admin';

/** A user as every API response shows it: never a hash, token or secret. */
export interface PublicUser {
  readonly id: string;
  readonly email: string;
  readonly displayName: string;
  readonly role: Role;
  readonly emailVerified: boolean;
  readonly createdAt: string;
}

/** The caller of an authenticated request. */
export interface Principal {
  readonly user: PublicUser;
  readonly sessionId: string;
}

/** A login attempt as gates see it: the normalised email, never the password. */
export interface LoginAttempt {
  readonly identifier: string;
  readonly ip: string;
  readonly requestId: string;
}

/** `error`: the check itself failed (e.g. the database); a gate should release what it reserved. */
export type LoginOutcome = 'succeeded' | 'failed' | 'error';

/**
 * Lets another plugin take part in every login. `before` runs before the password is checked and
 * may refuse by throwing an HttpProblem (e.g. 423 account_locked); `after` is awaited once the
 * outcome is known, before the response is sent, so its bookkeeping is exact under concurrency.
 */
export interface LoginGate {
  readonly name: string;
  before(attempt: LoginAttempt): Promise<void>;
  after?(attempt: LoginAttempt, outcome: LoginOutcome): Promise<void>;
}

export interface AuthService {
  /** The caller, from the bearer token; undefined when there is none or it is not valid. */
  authenticate(http: HttpContext): Promise<Principal | undefined>;
  /** The caller, or 401 `unauthenticated` with `WWW-Authenticate: Bearer`. */
  requireUser(http: HttpContext): Promise<Principal>;
  /** The caller with the role, or 401 / 403 `forbidden`. */
  requireRole(http: HttpContext, role: Role): Promise<Principal>;
  /** Revokes every session of a user (admin actions); their access tokens stop working at once. */
  revokeAllSessions(userId: string, reason: string): Promise<number>;
  /** Adds a login gate (call from your plugin's `init`). */
  addLoginGate(gate: LoginGate): void;
  /** The account with this email (compared case-insensitively), if there is one. */
  findUserByEmail(email: string): Promise<PublicUser | undefined>;
}

export const authServiceRef = createServiceRef<AuthService>('auth');

export const authHooks = {
  loginSucceeded: defineHook<{ readonly userId: string; readonly identifier: string; readonly ip: string }>('auth.login.succeeded'),
  /** `identifier` is the normalised email, whether or not an account has it. */
  loginFailed: defineHook<{ readonly identifier: string; readonly ip: string; readonly reason: 'invalid_credentials' | 'email_not_verified' }>(
    'auth.login.failed',
  ),
  passwordReset: defineHook<{ readonly userId: string; readonly identifier: string }>('auth.password.reset'),
  sessionRevoked: defineHook<{ readonly userId: string; readonly sessionIds: readonly string[]; readonly reason: string }>(
    'auth.session.revoked',
  ),
} as const;
