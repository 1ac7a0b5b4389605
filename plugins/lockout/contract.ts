/** The lockout service contract (provided by the lockout plugin), for admin tools. */
import type { SqlEntityManager } from '@mikro-orm/sql';
import { createServiceRef } from '../../core/index.ts';

export interface LockoutStatus {
  readonly identifier: string;
  /** Failed logins counted in the current window. */
  readonly failures: number;
  /** Set while the identifier is locked (by failed logins or by an administrator). */
  readonly lockedUntil: Date | undefined;
  /** Locked by an administrator: holds until unlocked or until `lockedUntil` (undefined `until`: indefinitely). */
  readonly adminLocked: boolean;
}

export interface AdminLock {
  /** When the lock ends by itself; absent: until an administrator unlocks. */
  readonly until?: Date;
}

export interface LockoutService {
  /** The state of a normalised email (whether or not an account has it). */
  status(identifier: string): Promise<LockoutStatus>;
  /** The states of many identifiers in one query (a page of the back office's account list). */
  statuses(identifiers: readonly string[]): Promise<ReadonlyMap<string, LockoutStatus>>;
  /**
   * Locks the identifier on an administrator's decision: logins answer 423 until `unlock` or
   * `until`, whatever the password, and a password reset does not lift it. With `em`, in the
   * caller's transaction.
   */
  lock(identifier: string, lock: AdminLock, options?: { readonly em?: SqlEntityManager }): Promise<LockoutStatus>;
  /** Clears the counter and every lock of the identifier (an administrator's unlock). */
  unlock(identifier: string, options?: { readonly em?: SqlEntityManager }): Promise<LockoutStatus>;
}

export const lockoutServiceRef = createServiceRef<LockoutService>('lockout');
