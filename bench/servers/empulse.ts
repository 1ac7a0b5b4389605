/**
 * The full Empulse pipeline with the configured plugins, served by the real host server. Logs go
 * to stdout at LOG_LEVEL (the bench discards them, as a log shipper would consume them).
 */
import { Kernel, type DatabaseConfig } from '../../core/index.ts';
import { createHostLogger } from '../../host/logger.ts';
import { serve } from '../../host/server.ts';
import config from '../../empulse.config.ts';

const database: DatabaseConfig = process.env.DATABASE_URL
  ? { driver: 'postgresql', url: process.env.DATABASE_URL }
  : { driver: 'pglite', dataDir: process.env.DATA_DIR! };
const started = performance.now();
// The bench drives one account from one address at full speed: rate limits would answer most
// of it with 429, so they are measured separately (not yet), not here.
const plugins = config.plugins.filter((p) => !('id' in p && p.id === 'ratelimit'));
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
