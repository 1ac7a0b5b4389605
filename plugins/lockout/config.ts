/** The lockout plugin's options (API.md defaults: 5 failures in 15 minutes lock for 15 minutes). */
import * as v from 'valibot';
import type { ConfigProblem } from '../../core/index.ts';

const positive = (fallback: number) => v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), fallback);

export const lockoutConfigSchema = v.strictObject({
  /** Consecutive failed logins that lock the identifier. */
  threshold: positive(5),
  /** Failures older than this no longer count. */
  windowSeconds: positive(15 * 60),
  /** Length of the first lockout. */
  lockSeconds: positive(15 * 60),
  /** Each further lockout (without a success in between) lasts this many times longer… */
  growthFactor: v.optional(v.pipe(v.number(), v.minValue(1)), 2),
  /** …up to this. */
  maxLockSeconds: positive(24 * 3600),
  /** How long a login waits while other attempts on the same email are being checked. */
  maxWaitMs: positive(10_000),
  /** How often expired counters are deleted. */
  cleanupIntervalSeconds: positive(10 * 60),
});

export type LockoutConfig = v.InferOutput<typeof lockoutConfigSchema>;

export function validateLockoutConfig(config: LockoutConfig): ConfigProblem[] {
  return config.maxLockSeconds < config.lockSeconds ? [{ path: 'maxLockSeconds', message: 'must not be shorter than lockSeconds' }] : [];
}
