/**
 * Limits shared by every instance: @upstash/ratelimit's sliding window, over Upstash REST
 * (@upstash/redis) or over Redis TCP through a small adapter (ioredis). A timeout is an error
 * here, never a silent pass: the caller falls back to memory limits.
 */
import { Ratelimit } from '@upstash/ratelimit';
import type { Redis as UpstashRedis } from '@upstash/redis';
import type { Decision, Limiter, Policy } from './limiter.ts';

export class SharedLimiter implements Limiter {
  readonly #redis: UpstashRedis;
  readonly #timeoutMs: number;
  readonly #limiters = new Map<string, Ratelimit>();

  constructor(redis: UpstashRedis, timeoutMs: number) {
    this.#redis = redis;
    this.#timeoutMs = timeoutMs;
  }

  async limit(key: string, policy: Policy): Promise<Decision> {
    const id = `${policy.group}|${policy.limit}|${policy.windowSeconds}`;
    let limiter = this.#limiters.get(id);
    if (!limiter) {
      limiter = new Ratelimit({
        redis: this.#redis,
        limiter: Ratelimit.slidingWindow(policy.limit, `${policy.windowSeconds} s`),
        prefix: `empulse:rl:${id}`,
        timeout: this.#timeoutMs,
        // No local cache of blocked clients: every instance must see the same budget.
        ephemeralCache: false,
        analytics: false,
      });
      this.#limiters.set(id, limiter);
    }
    const result = await limiter.limit(key);
    if (result.reason === 'timeout') throw new Error(`the rate-limit backend did not answer within ${this.#timeoutMs} ms`);
    return { success: result.success, limit: result.limit, remaining: result.remaining, reset: result.reset };
  }
}
