/**
 * storage plugin: provides the `storage` service (contract.ts) on one of three drivers, picked by
 * STORAGE_DRIVER or inferred (config.ts): `local` (files under DATA_DIR/storage, the default, so a
 * first run needs nothing), `s3` (Amazon S3 or any S3-compatible store) and `r2` (Cloudflare R2).
 * Every driver sits behind the same service (service.ts): keys it made, byte limits, SHA-256 while
 * streaming, nothing left behind on failure. With the local driver the plugin also serves signed
 * downloads (`GET /v1/storage/objects/<key>?expires=…&signature=…`, download-route.ts).
 * Readiness check `storage`: the directory (or bucket) is reachable and writable.
 */
import { randomBytes } from 'node:crypto';
import { coreServices, definePlugin, type Logger } from '../../core/index.ts';
import { resolveDriver, storageConfigFromEnv, storageConfigSchema, validateStorageConfig, type StorageConfig } from './config.ts';
import { metricsServiceRef, type MetricsService } from '../metrics/contract.ts';
import { storageServiceRef } from './contract.ts';
import { downloadRoute } from './download-route.ts';
import type { StorageDriver } from './driver.ts';
import { createLocalDriver, type LocalDriver } from './local-driver.ts';
import { storageProblemCatalogue } from './problems.ts';
import { createStorageService, type PutObserver } from './service.ts';

/** The plugin's state in one kernel. */
interface Running {
  readonly driver: StorageDriver;
  /** The same driver when it is the local one (temporary-file sweep at start). */
  readonly local: LocalDriver | undefined;
  /** What local signed URLs are signed with (undefined for S3 and R2, which presign themselves). */
  readonly signingKey: string | undefined;
}

/** S3 and R2 load the AWS SDK; a local deployment never pays for it. */
async function remoteDriver(config: StorageConfig, name: 's3' | 'r2', logger: Logger): Promise<StorageDriver> {
  const { createS3Driver } = await import('./s3-driver.ts');
  return createS3Driver(config, name, logger);
}

export const storagePlugin = definePlugin({
  id: 'storage',
  version: '0.1.0',
  kernel: '^0.1.0',
  description: 'Object storage (local disk, S3, R2): streamed, SHA-256 verified puts; ranged reads; signed URLs',
  requires: { http: coreServices.http },
  optional: { metrics: metricsServiceRef },
  provides: { storage: storageServiceRef },
  config: storageConfigSchema,
  fromEnv: storageConfigFromEnv,
  validate: validateStorageConfig,
  secrets: ['signingKey', 'awsSecretAccessKey', 'r2SecretAccessKey'],
  problems: [storageProblemCatalogue],
  prefixes: ['/v1/storage'],
  async init(ctx) {
    const config = ctx.config;
    const name = resolveDriver(config);
    let state: Running;
    if (name === 'local') {
      // Production refuses to boot without STORAGE_SIGNING_KEY (validate); the host generates a
      // lasting one into DATA_DIR in development. A kernel started without either (tests, an
      // embedding program) signs with a key of its own: its URLs end with the process.
      let signingKey = config.signingKey;
      if (signingKey === undefined) {
        signingKey = randomBytes(32).toString('base64url');
        if (ctx.mode === 'development') ctx.logger.warn('STORAGE_SIGNING_KEY is not set: signed download URLs stop working when this process ends');
      }
      const local = createLocalDriver(config.dir, { signingKey, publicApiUrl: config.publicApiUrl, logger: ctx.logger });
      state = { driver: local, local, signingKey };
      // Browsers' fetch() may read these on cross-origin downloads (ranges, caching, file name).
      ctx.services.http.exposeHeaders('Accept-Ranges', 'Content-Range', 'Content-Disposition', 'ETag');
    } else {
      state = { driver: await remoteDriver(config, name, ctx.logger), local: undefined, signingKey: undefined };
    }
    const driver = state.driver;
    ctx.onStop(() => driver.close());
    ctx.logger.info({ driver: name, ...(state.local && { dir: state.local.dir }) }, 'storage ready');
    return { services: { storage: createStorageService(driver, uploadMetrics(ctx.services.metrics, name)) }, state };
  },
  routes(router, ctx) {
    // Only the local driver serves downloads itself; S3 and R2 hand out their own presigned URLs.
    if (resolveDriver(ctx.config) !== 'local') return;
    downloadRoute(router, {
      storage: () => ctx.services.storage,
      signingKey: () => ctx.state.signingKey!,
    });
  },
  health: {
    storage: (ctx, signal) => ctx.state.driver.check(signal),
  },
  async start(ctx) {
    // Temporary files of writes that a crash interrupted. Not a boot failure: readiness reports
    // an unusable directory by name.
    await ctx.state.local?.sweep().catch((err: unknown) => ctx.logger.warn({ err }, 'storage: could not sweep temporary files'));
  },
});

/** Upload counts, bytes and durations by driver, when the metrics plugin is on. */
function uploadMetrics(metrics: MetricsService | undefined, driver: string): PutObserver | undefined {
  if (!metrics) return undefined;
  const uploads = metrics.counter({ name: 'empulse_storage_uploads_total', help: 'Objects written to storage by driver and outcome (stored, failed)', labelNames: ['driver', 'outcome'] });
  const bytes = metrics.counter({ name: 'empulse_storage_upload_bytes_total', help: 'Bytes of the objects stored, by driver', labelNames: ['driver'] });
  const seconds = metrics.histogram({
    name: 'empulse_storage_upload_duration_seconds',
    help: 'Time to stream an object into storage, by driver and outcome',
    labelNames: ['driver', 'outcome'],
    // Uploads of masters run from a second to the better part of an hour on a slow line.
    buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600],
  });
  return (outcome, sizeBytes, duration) => {
    uploads.inc({ driver, outcome });
    if (sizeBytes > 0) bytes.inc({ driver }, sizeBytes);
    seconds.observe({ driver, outcome }, duration);
  };
}
