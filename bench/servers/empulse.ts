/**
 * The full Empulse pipeline with the configured plugins, served by the real host server. Logs go
 * to stdout at LOG_LEVEL (the bench discards them, as a log shipper would consume them).
 */
import { createHash } from 'node:crypto';
import { configure, definePlugin, Kernel, multipartBody, type DatabaseConfig } from '../../core/index.ts';
import { healthPlugin } from '../../plugins/health/index.ts';
import { ratelimitPlugin } from '../../plugins/ratelimit/index.ts';
import { createHostLogger } from '../../host/logger.ts';
import { serve } from '../../host/server.ts';
import config from '../../empulse.config.ts';

const database: DatabaseConfig = process.env.DATABASE_URL
  ? { driver: 'postgresql', url: process.env.DATABASE_URL }
  : { driver: 'pglite', dataDir: process.env.DATA_DIR! };
const started = performance.now();
// The bench drives one account from one address at full speed, which rate limits would answer
// with 429s; they are measured on their own: BENCH_RATELIMIT=memory|redis enables them with a
// limit no run reaches, on every route including /v1/bench/ping (a route that does nothing).
const limits = process.env.BENCH_RATELIMIT;
const pingPlugin = definePlugin({
  id: 'bench',
  version: '1.0.0',
  routes(router) {
    router.get('/v1/bench/ping', (http) => {
      http.body = { ok: true };
    });
    // The upload figure (bench/upload.ts): hashes each file part as it streams and reports how
    // much this process's RSS grew meanwhile (sampled every 5 ms).
    router.post(
      '/v1/bench/upload',
      { body: multipartBody({ maxFileBytes: 1024 ** 3, maxFiles: 1, maxFieldBytes: 1024, maxFields: 4, maxTotalBytes: 1024 ** 3 + 65_536 }) },
      async (http) => {
        const baseline = process.memoryUsage.rss();
        let peak = baseline;
        const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 5);
        try {
          const hash = createHash('sha256');
          let bytes = 0;
          for await (const part of http.state.body) {
            if (part.kind !== 'file') continue;
            const reader = part.stream.getReader();
            for (let r = await reader.read(); !r.done; r = await reader.read()) {
              hash.update(r.value);
              bytes += r.value.byteLength;
            }
          }
          http.body = { bytes, sha256: hash.digest('hex'), rssGrowthBytes: peak - baseline };
        } finally {
          clearInterval(sampler);
        }
      },
    );
  },
});
const plugins = [
  // BENCH_METRICS=off leaves the metrics plugin out, for its cost on the hot path.
  ...config.plugins
    .filter((p) => !('id' in p && (p.id === 'ratelimit' || (p.id === 'metrics' && process.env.BENCH_METRICS === 'off'))))
    // BENCH_READINESS_CACHE_MS=0: readiness runs its checks for every probe (a database round trip
    // as the base of the refresh ratio).
    .map((p) => ('id' in p && p.id === 'health' && process.env.BENCH_READINESS_CACHE_MS ? configure(healthPlugin, { readinessCacheMs: Number(process.env.BENCH_READINESS_CACHE_MS) }) : p)),
  pingPlugin,
  ...(limits === 'memory' || limits === 'redis'
    ? [configure(ratelimitPlugin, { backend: limits, redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', defaultPolicy: { limit: 1_000_000_000, windowSeconds: 60 } })]
    : []),
];
const kernel = new Kernel({
  config: { ...config, plugins },
  env: { JWT_SECRET: 'bench-secret-bench-secret-bench-secret-0123', ...process.env },
  mode: 'development',
  // development mode: the bench uses the outbox email transport and a generated JWT secret
  logger: createHostLogger((process.env.LOG_LEVEL as 'info') ?? 'info').logger,
  database,
});
await kernel.boot();
const bootMs = performance.now() - started;
await serve(kernel, { port: Number(process.env.PORT), host: '127.0.0.1', shutdownTimeoutMs: 1000 });
process.send?.({ ready: true, bootMs });
process.on('message', async (msg) => {
  if (msg === 'stop') {
    await kernel.stop();
    process.exit(0);
  }
});
