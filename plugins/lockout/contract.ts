/** The lockout service contract (provided by the lockout plugin), for admin tools. */
import { createServiceRef } from '../../core/index.ts';

export interface LockoutStatus {
  readonly identifier: string;
  /** Failed logins counted in the current window. */
  readonly failures: number;
  /** Set while the identifier is locked. */
  readonly lockedUntil: Date | undefined;
}

export interface LockoutService {
  /** The state of a normalised email (whether or not an account has it). */
  status(identifier: string): Promise<LockoutStatus>;
  /** Clears the counter and any lock of the identifier (admin unlock, password reset). */
  unlock(identifier: string): Promise<void>;
}

export const lockoutServiceRef = createServiceRef<LockoutService>('lockout');
