/** The ratelimit plugin's options: backend, per-group overrides, the default policy. */
import * as v from 'valibot';
import type { ConfigProblem, Env } from '../../core/index.ts';

const Override = v.strictObject({
  limit: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
  windowSeconds: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
});

export const ratelimitConfigSchema = v.strictObject({
  /** `auto`: Upstash when its URL and token are set, else Redis when REDIS_URL is, else memory. */
  backend: v.optional(v.picklist(['auto', 'memory', 'redis', 'upstash']), 'auto'),
  redisUrl: v.optional(v.string()),
  upstashUrl: v.optional(v.string()),
  upstashToken: v.optional(v.string()),
  /** A shared backend slower than this counts as failed (memory limits apply meanwhile). */
  timeoutMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(10)), 250),
  /** Routes that declare no group. */
  defaultPolicy: v.optional(
    v.strictObject({ limit: v.pipe(v.number(), v.integer(), v.minValue(1)), windowSeconds: v.pipe(v.number(), v.integer(), v.minValue(1)) }),
    { limit: 600, windowSeconds: 60 },
  ),
  /** Operator overrides by group name, e.g. `{ 'auth.login': { limit: 30 } }`. */
  policies: v.optional(v.record(v.string(), Override), {}),
});

export type RatelimitConfig = v.InferOutput<typeof ratelimitConfigSchema>;

export function ratelimitConfigFromEnv(env: Env): Partial<v.InferInput<typeof ratelimitConfigSchema>> {
  return {
    redisUrl: env.REDIS_URL || undefined,
    upstashUrl: env.UPSTASH_REDIS_REST_URL || undefined,
    upstashToken: env.UPSTASH_REDIS_REST_TOKEN || undefined,
  };
}

export type Backend = 'memory' | 'redis' | 'upstash';

export function resolveBackend(config: RatelimitConfig): Backend {
  if (config.backend !== 'auto') return config.backend;
  if (config.upstashUrl && config.upstashToken) return 'upstash';
  return config.redisUrl ? 'redis' : 'memory';
}

export function validateRatelimitConfig(config: RatelimitConfig): ConfigProblem[] {
  const backend = resolveBackend(config);
  if (backend === 'redis' && !config.redisUrl) return [{ path: 'REDIS_URL', message: 'the redis backend needs REDIS_URL' }];
  if (backend === 'upstash' && !(config.upstashUrl && config.upstashToken)) {
    return [{ path: 'UPSTASH_REDIS_REST_URL', message: 'the upstash backend needs UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN' }];
  }
  return [];
}
