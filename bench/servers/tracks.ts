/**
 * The tracks bench's server (bench/tracks.ts): only the plugins `POST /v1/tracks` stands on (auth,
 * email, audit, artists, storage, tracks), served by the real host server, so its RSS is the
 * upload's and theirs, not the rest of the deployment's. Email uses the development outbox and
 * storage the local driver, both under DATA_DIR; the database is DATABASE_URL (PostgreSQL). No
 * rate limits: the bench logs in and uploads faster than their policies allow. Same protocol as
 * servers/empulse.ts: `{ ready, bootMs }` over IPC once listening, 'stop' to stop.
 */
import { configure, Kernel } from '../../core/index.ts';
import { createHostLogger } from '../../host/logger.ts';
import { serve } from '../../host/server.ts';
import { artistsPlugin } from '../../plugins/artists/index.ts';
import { auditPlugin } from '../../plugins/audit/index.ts';
import { authPlugin } from '../../plugins/auth/index.ts';
import { emailPlugin } from '../../plugins/email/index.ts';
import { storagePlugin } from '../../plugins/storage/index.ts';
import { tracksPlugin } from '../../plugins/tracks/index.ts';

const started = performance.now();
const dataDir = process.env.DATA_DIR!;
const kernel = new Kernel({
  config: {
    plugins: [
      emailPlugin,
      authPlugin,
      configure(storagePlugin, { driver: 'local', dir: `${dataDir}/storage` }),
      auditPlugin,
      artistsPlugin,
      tracksPlugin,
    ],
  },
  env: { JWT_SECRET: 'bench-secret-bench-secret-bench-secret-0123', ...process.env },
  // development mode: the outbox email transport, a generated storage signing key
  mode: 'development',
  logger: createHostLogger((process.env.LOG_LEVEL as 'warn') ?? 'warn').logger,
  database: { driver: 'postgresql', url: process.env.DATABASE_URL! },
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
