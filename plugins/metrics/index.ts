/**
 * metrics plugin: `GET /metrics` in Prometheus' text format behind a bearer token
 * (`METRICS_TOKEN`; unset, the route answers 404). It measures every request by route pattern
 * and status, the database pool and the process, and gives other plugins the `metrics` service
 * for their own series (logins, lockouts, rate-limit decisions, email outbox, uploads).
 */
import { coreProblems, coreServices, definePlugin } from '../../core/index.ts';
import client from 'prom-client';
import { rateLimit } from '../ratelimit/contract.ts';
import { bearerMatches, tokenDigest } from './bearer.ts';
import { metricsConfigFromEnv, metricsConfigSchema } from './config.ts';
import { LATENCY_BUCKETS, metricsServiceRef } from './contract.ts';
import { MetricsRegistry } from './registry.ts';

/** Requests no route answered share one label value, so scanners cannot grow the series set. */
const UNMATCHED = '(unmatched)';

export const metricsPlugin = definePlugin({
  id: 'metrics',
  version: '0.1.0',
  kernel: '^0.1.0',
  description: 'Prometheus metrics at /metrics (bearer METRICS_TOKEN)',
  requires: { http: coreServices.http },
  provides: { metrics: metricsServiceRef },
  config: metricsConfigSchema,
  fromEnv: metricsConfigFromEnv,
  secrets: ['token'],
  prefixes: ['/metrics'],
  async init(ctx) {
    const metrics = new MetricsRegistry(ctx.logger);
    if (ctx.config.processMetrics) client.collectDefaultMetrics({ register: metrics.registry });

    const requests = metrics.counter({ name: 'http_requests_total', help: 'Requests answered, by method, route pattern and status', labelNames: ['method', 'route', 'status'] });
    const durations = metrics.histogram({
      name: 'http_request_duration_seconds',
      help: "Time from a request's arrival to its answer, by method, route pattern and status",
      labelNames: ['method', 'route', 'status'],
      buckets: LATENCY_BUCKETS,
    });
    ctx.services.http.observeResponses((o) => {
      const labels = { method: o.method, route: o.route ?? UNMATCHED, status: o.status };
      requests.inc(labels);
      durations.observe(labels, o.durationSeconds);
    });

    const db = ctx.db;
    metrics.gauge({
      name: 'empulse_db_pool_connections',
      help: 'Database pool connections by state (busy, idle) and the pool\'s maximum (max); PostgreSQL only',
      labelNames: ['state'],
      collect(gauge) {
        const stats = db.poolStats();
        if (!stats) return;
        gauge.set({ state: 'busy' }, stats.total - stats.idle);
        gauge.set({ state: 'idle' }, stats.idle);
        gauge.set({ state: 'max' }, stats.max);
      },
    });
    metrics.gauge({
      name: 'empulse_db_pool_waiting',
      help: 'Queries waiting for a free database connection (above zero: the pool is the bottleneck)',
      collect(gauge) {
        const stats = db.poolStats();
        if (stats) gauge.set({}, stats.waiting);
      },
    });

    const expected = ctx.config.token === undefined ? undefined : await tokenDigest(ctx.config.token);
    if (!expected) ctx.logger.info('METRICS_TOKEN is not set: GET /metrics answers 404');
    return { services: { metrics }, state: { registry: metrics, expected } };
  },
  routes(router, ctx) {
    router.get(
      '/metrics',
      {
        summary: 'Prometheus metrics (text exposition format)',
        description:
          'Needs `Authorization: Bearer <METRICS_TOKEN>`. Answers 404 when METRICS_TOKEN is not set. The body is `text/plain; version=0.0.4` (Prometheus text format), not JSON. Not rate-limited: scrapers poll it and the token is 256 random bits.',
        timeoutMs: 10_000,
        meta: [rateLimit(false)],
        responses: { 200: { description: 'Every series, in Prometheus text format' } },
        problems: ['unauthenticated', 'not_found'],
      },
      async (http) => {
        const expected = ctx.state.expected;
        if (!expected) throw coreProblems.not_found(`No route matches GET ${http.path}.`);
        if (!(await bearerMatches(http.get('authorization'), expected))) {
          throw coreProblems.unauthenticated('Send the metrics token: Authorization: Bearer <METRICS_TOKEN>.', {
            headers: { 'WWW-Authenticate': 'Bearer realm="metrics"' },
          });
        }
        const { contentType, body } = await ctx.state.registry.scrape();
        http.set('Cache-Control', 'no-store');
        http.type = contentType;
        http.body = body;
      },
    );
  },
});

