/**
 * The shared backend with a memory fallback: when it fails or times out, limits keep being
 * enforced in memory (never lifted), a warning is logged once, readiness shows "degraded", and
 * the next success (a request's, or readiness' own `recheck`) switches back by itself.
 */
import type { Logger } from '../../core/index.ts';
import type { Decision, Limiter, Policy } from './limiter.ts';

const RECHECK_KEY = 'empulse:readiness-recheck';
const RECHECK_POLICY: Policy = { group: 'readiness', limit: 1_000_000, windowSeconds: 1 };

export class ResilientLimiter implements Limiter {
  readonly #shared: Limiter;
  readonly #memory: Limiter;
  readonly #logger: Logger;
  #failure: string | undefined;

  constructor(shared: Limiter, memory: Limiter, logger: Logger) {
    this.#shared = shared;
    this.#memory = memory;
    this.#logger = logger;
  }

  /** Why the shared backend is not in use right now (undefined while it works). */
  get degraded(): string | undefined {
    return this.#failure;
  }

  /**
   * While degraded, asks the shared backend once more through the same path requests take (a
   * key of its own, never limited), so readiness turns ok when the backend is back even if no
   * request came meanwhile. Resolves to the reason it is still degraded, if it is.
   */
  async recheck(): Promise<string | undefined> {
    if (!this.#failure) return undefined;
    await this.limit(RECHECK_KEY, RECHECK_POLICY);
    return this.#failure;
  }

  async limit(key: string, policy: Policy): Promise<Decision> {
    try {
      const decision = await this.#shared.limit(key, policy);
      if (this.#failure) {
        this.#logger.info('rate-limit backend is back; shared limits apply again');
        this.#failure = undefined;
      }
      return decision;
    } catch (err) {
      if (!this.#failure) {
        this.#logger.warn({ err }, 'rate-limit backend failed; enforcing limits in memory until it is back');
      }
      this.#failure = `shared backend unavailable (${err instanceof Error ? err.message : String(err)}); limits enforced in memory`;
      return this.#memory.limit(key, policy);
    }
  }
}
