/**
 * The auth service contract (provided by the auth plugin): who is calling, guards for other
 * plugins' routes, the hooks it emits, and the login gate extension point (used by lockout).
 */
import type { SqlEntityManager } from '@mikro-orm/sql';
import { createServiceRef, defineHook, defineRouteMeta, type HttpContext } from '../../core/index.ts';

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

/** An account as the back office sees it: the public user plus what staff need to manage it. */
export interface AccountSummary extends PublicUser {
  /** The normalised email logins are counted by (the lockout plugin's identifier). */
  readonly loginIdentifier: string;
  readonly lastLoginAt: string | null;
  /** Sessions neither revoked nor expired. */
  readonly activeSessions: number;
}

/** Where a page of accounts starts: after this account in the list's order (newest first). */
export interface AccountPosition {
  /** The creation time at the database's precision (opaque: give back what `listAccounts` gave). */
  readonly createdAt: string;
  readonly id: string;
}

export interface ListedAccount {
  readonly account: AccountSummary;
  readonly position: AccountPosition;
}

export interface AccountQuery {
  /** Part of the email or display name, case-insensitive. */
  readonly q?: string;
  readonly role?: Role;
  /** At most this many accounts (the caller asks one more to know whether a next page exists). */
  readonly limit: number;
  readonly after?: AccountPosition;
}

export type SetRoleResult =
  | { readonly outcome: 'changed' | 'unchanged'; readonly previousRole: Role }
  | { readonly outcome: 'not_found' }
  /** The change would leave no admin. */
  | { readonly outcome: 'last_admin' };

/** Work that joins the caller's transaction (e.g. so an audit entry commits with it). */
export interface InTransaction {
  readonly em: SqlEntityManager;
}

export interface AuthService {
  /** The caller, from the bearer token; undefined when there is none or it is not valid. */
  authenticate(http: HttpContext): Promise<Principal | undefined>;
  /** The caller, or 401 `unauthenticated` with `WWW-Authenticate: Bearer`. */
  requireUser(http: HttpContext): Promise<Principal>;
  /** The caller with the role, or 401 / 403 `forbidden`. */
  requireRole(http: HttpContext, role: Role): Promise<Principal>;
  /**
   * Revokes every session of a user (admin actions); their access tokens stop working at once.
   * With `em`, inside the caller's transaction (the hook is emitted after its commit).
   */
  revokeAllSessions(userId: string, reason: string, options?: InTransaction): Promise<number>;
  /** Adds a login gate (call from your plugin's `init`). */
  addLoginGate(gate: LoginGate): void;
  /** The account with this email (compared case-insensitively), if there is one. */
  findUserByEmail(email: string): Promise<PublicUser | undefined>;
  /** One account, for the back office. */
  getAccount(userId: string, options?: InTransaction): Promise<AccountSummary | undefined>;
  /** Accounts newest first, filtered by `q` and `role` (keyset pagination with `after`). */
  listAccounts(query: AccountQuery): Promise<ListedAccount[]>;
  /**
   * Sets a user's role in the caller's transaction. Admins are counted under a lock, so two
   * concurrent demotions can never leave the label without one (`last_admin`). Does not revoke
   * sessions: the caller decides (and audits) that in the same transaction.
   */
  setRole(userId: string, role: Role, options: InTransaction): Promise<SetRoleResult>;
}

export const authServiceRef = createServiceRef<AuthService>('auth');

/**
 * `meta: [requiresRole('admin')]` on a route: the auth plugin checks the caller's role before the
 * route's query and body are validated, so a caller without it gets 401/403 and never learns
 * what a valid request looks like (422 details). The handler still gets the caller with
 * `requireRole` (resolved once per request).
 */
export const requiresRole = defineRouteMeta<Role>('auth.role');

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
