/**
 * Delay before the next attempt: the base delay doubling per failed attempt, capped, with "equal
 * jitter" (a random point in the upper half) so that messages which failed together — during a
 * provider outage — do not all come back in the same instant, while the delay still grows.
 */
export interface BackoffSettings {
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

/** `failedAttempts` ≥ 1: how many attempts have failed so far. */
export function retryDelayMs(failedAttempts: number, settings: BackoffSettings, random: () => number = Math.random): number {
  const exponential = settings.baseDelayMs * 2 ** Math.min(failedAttempts - 1, 40);
  const capped = Math.min(settings.maxDelayMs, exponential);
  return Math.round(capped / 2 + random() * (capped / 2));
}
