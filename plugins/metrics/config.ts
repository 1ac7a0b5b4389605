/** The metrics plugin's options. */
import * as v from 'valibot';
import type { Env } from '../../core/index.ts';

export const metricsConfigSchema = v.strictObject({
  /** Bearer token scrapers send; unset: `GET /metrics` answers 404, as if the plugin were off. */
  token: v.optional(v.pipe(v.string(), v.minLength(16, 'must be at least 16 characters (npx empulse secrets makes one)'))),
  /** Node's process series (CPU, memory, event loop lag, GC, handles), prom-client's defaults. */
  processMetrics: v.optional(v.boolean(), true),
});

export type MetricsConfig = v.InferOutput<typeof metricsConfigSchema>;

export function metricsConfigFromEnv(env: Env): Partial<v.InferInput<typeof metricsConfigSchema>> {
  return { token: env.METRICS_TOKEN || undefined };
}
