/**
 * Readiness probes arrive every few seconds from every load balancer, and each email check costs
 * the provider something (an SMTP connection with a login, or an API call that counts against
 * Resend's request rate limit, which sending shares). A success is therefore reused for a short
 * while; a failure never is, so readiness drops on the first failing probe after the cache ends.
 */
import type { CheckOutcome } from '../../core/index.ts';

export function cachedCheck(check: (signal: AbortSignal) => Promise<CheckOutcome>, ttlMs: number): (signal: AbortSignal) => Promise<CheckOutcome> {
  let okUntil = 0;
  return async (signal) => {
    if (performance.now() < okUntil) return;
    const outcome = await check(signal);
    if (!outcome) okUntil = performance.now() + ttlMs;
    return outcome;
  };
}
