/**
 * In-process sliding window, the same approximation @upstash/ratelimit's slidingWindow uses:
 * the previous fixed window's count weighted by how much of it still overlaps, plus the current
 * window's count. Exact per process; several instances each keep their own (use Redis to share).
 */
import type { Decision, Limiter, Policy } from './limiter.ts';

interface Counter {
  /** Window length in ms (policies differ), and the index of the current window. */
  size: number;
  window: number;
  current: number;
  previous: number;
}

export class MemoryLimiter implements Limiter {
  readonly #counters = new Map<string, Counter>();
  #sweepAt = 0;

  async limit(key: string, policy: Policy): Promise<Decision> {
    const now = Date.now();
    const size = policy.windowSeconds * 1000;
    const window = Math.floor(now / size);
    this.#sweep(now);
    const mapKey = `${policy.group}|${policy.limit}|${policy.windowSeconds}|${key}`;
    let counter = this.#counters.get(mapKey);
    if (!counter || counter.window < window - 1) counter = { size, window, current: 0, previous: 0 };
    else if (counter.window === window - 1) counter = { size, window, current: 0, previous: counter.current };
    this.#counters.set(mapKey, counter);
    const overlap = 1 - (now % size) / size;
    const used = Math.floor(counter.previous * overlap) + counter.current;
    const reset = (window + 1) * size;
    if (used >= policy.limit) return { success: false, limit: policy.limit, remaining: 0, reset };
    counter.current++;
    return { success: true, limit: policy.limit, remaining: Math.max(0, policy.limit - used - 1), reset };
  }

  /** Drops counters two windows old, at most once a second, so memory stays bounded. */
  #sweep(now: number): void {
    if (now < this.#sweepAt) return;
    this.#sweepAt = now + 1000;
    for (const [key, c] of this.#counters) if (c.window < Math.floor(now / c.size) - 1) this.#counters.delete(key);
  }
}
