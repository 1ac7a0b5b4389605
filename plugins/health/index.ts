/**
 * health plugin: liveness (the process answers) and readiness (every registered check passes,
 * and shutdown has not begun) for load balancers and orchestrators.
 */
import * as v from 'valibot';
import { coreServices, definePlugin, type HealthService, type ReadinessReport } from '../../core/index.ts';
import { rateLimit } from '../ratelimit/contract.ts';

const Live = v.object({ status: v.literal('ok') });

const Readiness = v.object({
  status: v.picklist(['ok', 'fail']),
  checks: v.pipe(
    v.record(
      v.string(),
      v.object({
        status: v.pipe(v.picklist(['ok', 'degraded', 'fail']), v.description('"degraded": working, with a fallback (the reason is in error)')),
        latencyMs: v.number(),
        error: v.optional(v.string()),
      }),
    ),
    v.description('One entry per registered check, by name (database, email, ratelimit, …)'),
  ),
});

const HealthConfig = v.strictObject({
  /**
   * How old a readiness answer may be, in milliseconds (0: run the checks for every probe).
   * Probes from every load balancer and orchestrator hit /health/ready every few seconds; one
   * run of the checks (a database round trip, a Redis ping, …) per second serves them all, and
   * probes arriving together share the run in flight. Shutdown still answers 503 at once.
   */
  readinessCacheMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(10_000)), 1000),
});

export const healthPlugin = definePlugin({
  id: 'health',
  version: '0.1.0',
  kernel: '^0.1.0',
  description: 'Liveness and readiness endpoints',
  requires: { health: coreServices.health },
  config: HealthConfig,
  prefixes: ['/health'],
  init(ctx) {
    return { state: { readiness: recentReadiness(ctx.services.health, ctx.config.readinessCacheMs) } };
  },
  routes(router, ctx) {
    router.get('/health/live', { summary: 'The process is running', timeoutMs: 1000, meta: [rateLimit(false)], responses: { 200: { description: 'The process answers', body: Live } } }, (http) => {
      http.body = { status: 'ok' };
    });
    router.get('/health/ready', { summary: 'Every dependency check passes', timeoutMs: 5000, meta: [rateLimit(false)], responses: { 200: { description: 'Every check passes (or is degraded)', body: Readiness }, 503: { description: 'The same shape with status "fail": a check failed, or shutdown has begun', body: Readiness } } }, async (http) => {
      const report = await ctx.state.readiness();
      http.status = report.status === 'ok' ? 200 : 503;
      http.set('Cache-Control', 'no-store');
      http.body = report;
    });
  },
});

/** Readiness at most `maxAgeMs` old, one run of the checks at a time; never stale once shutting down. */
function recentReadiness(health: HealthService, maxAgeMs: number): () => Promise<ReadinessReport> {
  let last: { readonly report: ReadinessReport; readonly at: number } | undefined;
  let running: Promise<ReadinessReport> | undefined;
  const fresh = (): Promise<ReadinessReport> => {
    if (last && performance.now() - last.at < maxAgeMs) return Promise.resolve(last.report);
    running ??= health.readiness().then(
      (report) => {
        last = { report, at: performance.now() };
        running = undefined;
        return report;
      },
      (err: unknown) => {
        running = undefined;
        throw err;
      },
    );
    return running;
  };
  return async () => {
    if (health.isShuttingDown() || maxAgeMs === 0) return health.readiness();
    const report = await fresh();
    // Shutdown may have begun while the shared run went on: say so, not what it found.
    return health.isShuttingDown() ? health.readiness() : report;
  };
}
