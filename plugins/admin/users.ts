/**
 * The back office's account actions. Each runs in one transaction with its audit entry (and the
 * session revocation it implies), so an action never commits without its entry, and its effect
 * reaches the user's very next request: their sessions are revoked in the same commit.
 */
import type { Database } from '../../core/index.ts';
import type { AccountSummary, AuthService, Role } from '../auth/contract.ts';
import type { AuditEntryInput, AuditService } from '../audit/contract.ts';
import type { LockoutService } from '../lockout/contract.ts';
import type { AdminUser } from './schemas.ts';

export type Actor = Pick<AuditEntryInput, 'actor' | 'requestId' | 'ip'>;

export interface UserAdminDeps {
  readonly db: Database;
  readonly auth: AuthService;
  readonly audit: AuditService;
  readonly lockout: LockoutService | undefined;
}

export type RoleChange =
  | { readonly outcome: 'changed' | 'unchanged'; readonly user: AdminUser; readonly previousRole: Role }
  | { readonly outcome: 'not_found' }
  | { readonly outcome: 'last_admin' };

export class UserAdmin {
  readonly #d: UserAdminDeps;

  constructor(deps: UserAdminDeps) {
    this.#d = deps;
  }

  /** The API's AdminUser: the account plus its lock state (never locked without the lockout plugin). */
  async view(account: AccountSummary): Promise<AdminUser> {
    return (await this.viewAll([account]))[0]!;
  }

  /** A page of accounts with their lock states, in one lockout query. */
  async viewAll(accounts: readonly AccountSummary[]): Promise<AdminUser[]> {
    const statuses = this.#d.lockout ? await this.#d.lockout.statuses(accounts.map((a) => a.loginIdentifier)) : undefined;
    return accounts.map(({ loginIdentifier, ...user }) => {
      const status = statuses?.get(loginIdentifier);
      const locked = status !== undefined && (status.adminLocked || status.lockedUntil !== undefined);
      return { ...user, locked, lockedUntil: locked && status.lockedUntil ? status.lockedUntil.toISOString() : null };
    });
  }

  async setRole(userId: string, role: Role, reason: string, actor: Actor): Promise<RoleChange> {
    const { db, auth, audit } = this.#d;
    const result = await db.transactional(async (em) => {
      const changed = await auth.setRole(userId, role, { em });
      if (changed.outcome === 'not_found' || changed.outcome === 'last_admin') return changed;
      // A new role takes effect on the next request: the old tokens carry the old role.
      const revoked = changed.outcome === 'changed' ? await auth.revokeAllSessions(userId, 'role_changed', { em }) : 0;
      await audit.record(
        { ...actor, action: 'user.role.changed', targetType: 'user', targetId: userId, reason, details: { from: changed.previousRole, to: role, sessionsRevoked: revoked } },
        { em },
      );
      return changed;
    });
    if (result.outcome === 'not_found' || result.outcome === 'last_admin') return result;
    const account = await auth.getAccount(userId);
    return { outcome: result.outcome, previousRole: result.previousRole, user: await this.view(account!) };
  }

  /** An administrator's lock: logins answer 423 until unlocked or `until`; sessions end now. */
  async lock(userId: string, until: Date | undefined, reason: string, actor: Actor): Promise<AdminUser | undefined> {
    const { db, auth, audit } = this.#d;
    const lockout = this.#lockout();
    const done = await db.transactional(async (em) => {
      const account = await auth.getAccount(userId, { em });
      if (!account) return false;
      await lockout.lock(account.loginIdentifier, until ? { until } : {}, { em });
      const revoked = await auth.revokeAllSessions(userId, 'admin_locked', { em });
      await audit.record(
        { ...actor, action: 'user.locked', targetType: 'user', targetId: userId, reason, details: { until: until?.toISOString() ?? null, sessionsRevoked: revoked } },
        { em },
      );
      return true;
    });
    return done ? this.#current(userId) : undefined;
  }

  async unlock(userId: string, reason: string, actor: Actor): Promise<AdminUser | undefined> {
    const { db, auth, audit } = this.#d;
    const lockout = this.#lockout();
    const done = await db.transactional(async (em) => {
      const account = await auth.getAccount(userId, { em });
      if (!account) return false;
      await lockout.unlock(account.loginIdentifier, { em });
      await audit.record({ ...actor, action: 'user.unlocked', targetType: 'user', targetId: userId, reason }, { em });
      return true;
    });
    return done ? this.#current(userId) : undefined;
  }

  /** Resolves to false when there is no such user. */
  async revokeSessions(userId: string, reason: string, actor: Actor): Promise<boolean> {
    const { db, auth, audit } = this.#d;
    return db.transactional(async (em) => {
      const account = await auth.getAccount(userId, { em });
      if (!account) return false;
      const revoked = await auth.revokeAllSessions(userId, 'revoked_by_admin', { em });
      await audit.record(
        { ...actor, action: 'user.sessions.revoked', targetType: 'user', targetId: userId, reason, details: { sessionsRevoked: revoked } },
        { em },
      );
      return true;
    });
  }

  async #current(userId: string): Promise<AdminUser> {
    return this.view((await this.#d.auth.getAccount(userId))!);
  }

  #lockout(): LockoutService {
    if (!this.#d.lockout) throw new Error('the lockout plugin is not enabled');
    return this.#d.lockout;
  }
}
