/**
 * health plugin: liveness (the process answers) and readiness (every registered check passes,
 * and shutdown has not begun) for load balancers and orchestrators.
 */
import * as v from 'valibot';
import { coreServices, definePlugin } from '../../core/index.ts';
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

export const healthPlugin = definePlugin({
  id: 'health',
  version: '0.1.0',
  kernel: '^0.1.0',
  description: 'Liveness and readiness endpoints',
  requires: { health: coreServices.health },
  prefixes: ['/health'],
  routes(router, ctx) {
    router.get('/health/live', { summary: 'The process is running', timeoutMs: 1000, meta: [rateLimit(false)], responses: { 200: { description: 'The process answers', body: Live } } }, (http) => {
      http.body = { status: 'ok' };
    });
    router.get('/health/ready', { summary: 'Every dependency check passes', timeoutMs: 5000, meta: [rateLimit(false)], responses: { 200: { description: 'Every check passes (or is degraded)', body: Readiness }, 503: { description: 'The same shape with status "fail": a check failed, or shutdown has begun', body: Readiness } } }, async (http) => {
      const report = await ctx.services.health.readiness();
      http.status = report.status === 'ok' ? 200 : 503;
      http.set('Cache-Control', 'no-store');
      http.body = report;
    });
  },
});
