/**
 * health plugin: liveness (the process answers) and readiness (every registered check passes,
 * and shutdown has not begun) for load balancers and orchestrators.
 */
import { coreServices, definePlugin } from '../../core/index.ts';
import { rateLimit } from '../ratelimit/contract.ts';

export const healthPlugin = definePlugin({
  id: 'health',
  version: '0.1.0',
  kernel: '^0.1.0',
  description: 'Liveness and readiness endpoints',
  requires: { health: coreServices.health },
  prefixes: ['/health'],
  routes(router, ctx) {
    router.get('/health/live', { summary: 'The process is running', timeoutMs: 1000, meta: [rateLimit(false)], responses: { 200: '{ status: "ok" }' } }, (http) => {
      http.body = { status: 'ok' };
    });
    router.get('/health/ready', { summary: 'Every dependency check passes', timeoutMs: 5000, meta: [rateLimit(false)], responses: { 200: '{ status: "ok", checks: { <name>: { status, latencyMs, error? } } }', 503: 'The same shape with status "fail": a check failed, or shutdown has begun' } }, async (http) => {
      const report = await ctx.services.health.readiness();
      http.status = report.status === 'ok' ? 200 : 503;
      http.set('Cache-Control', 'no-store');
      http.body = report;
    });
  },
});
