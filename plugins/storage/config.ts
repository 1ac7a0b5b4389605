/**
 * The storage plugin's options, where they come from in the environment (API.md, "Running it":
 * STORAGE_DRIVER, AWS_*, S3_*, R2_*, STORAGE_SIGNING_KEY, PUBLIC_API_URL, DATA_DIR), and the
 * boot-time checks that name the variable to set.
 */
import * as v from 'valibot';
import type { ConfigProblem, Env, RuntimeMode } from '../../core/index.ts';

const DRIVERS = ['local', 's3', 'r2'] as const;
export type DriverName = (typeof DRIVERS)[number];

const text = () => v.optional(v.pipe(v.string(), v.minLength(1)));

export const storageConfigSchema = v.strictObject({
  /** Undefined: inferred (r2 when R2_BUCKET_NAME is set, else s3 when AWS_S3_BUCKET is, else local). */
  driver: v.optional(v.picklist(DRIVERS)),
  /** The local driver's directory (DATA_DIR/storage). */
  dir: v.optional(v.pipe(v.string(), v.minLength(1)), '.empulse/storage'),
  /** HMAC key of the local driver's signed URLs (development: generated into DATA_DIR by the host). */
  signingKey: text(),
  /** The API's own public base URL, for absolute signed URLs; default: the request's origin. */
  publicApiUrl: v.optional(v.pipe(v.string(), v.url())),
  // S3 and S3-compatible stores
  awsRegion: text(),
  awsAccessKeyId: text(),
  awsSecretAccessKey: text(),
  awsBucket: text(),
  s3Endpoint: v.optional(v.pipe(v.string(), v.url())),
  s3ForcePathStyle: v.optional(v.boolean()),
  s3PublicUrl: v.optional(v.pipe(v.string(), v.url())),
  // Cloudflare R2
  r2AccountId: text(),
  r2AccessKeyId: text(),
  r2SecretAccessKey: text(),
  r2Bucket: text(),
  /** Default: https://<R2_ACCOUNT_ID>.r2.cloudflarestorage.com */
  r2Endpoint: v.optional(v.pipe(v.string(), v.url())),
  r2PublicUrl: v.optional(v.pipe(v.string(), v.url())),
  /** Multipart part size (S3 minimum 5 MiB) and parts in flight: memory ≈ partSize × (queueSize + 2). */
  partSizeBytes: v.optional(v.pipe(v.number(), v.integer(), v.minValue(5 * 1024 * 1024)), 8 * 1024 * 1024),
  queueSize: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(16)), 4),
  /** A store slower than this fails readiness. */
  checkTimeoutMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(100)), 5_000),
});

export type StorageConfig = v.InferOutput<typeof storageConfigSchema>;

const bool = (value: string | undefined): boolean | undefined =>
  value === undefined || value === '' ? undefined : /^(1|true|yes)$/i.test(value.trim());

export function storageConfigFromEnv(env: Env): Partial<v.InferInput<typeof storageConfigSchema>> {
  const driver = env.STORAGE_DRIVER?.trim().toLowerCase();
  return {
    // An unknown value is passed on, so the schema reports it instead of it being ignored.
    driver: (driver || undefined) as DriverName | undefined,
    dir: env.DATA_DIR ? `${env.DATA_DIR.replace(/\/+$/, '')}/storage` : undefined,
    signingKey: env.STORAGE_SIGNING_KEY || undefined,
    publicApiUrl: env.PUBLIC_API_URL || undefined,
    awsRegion: env.AWS_REGION || undefined,
    awsAccessKeyId: env.AWS_ACCESS_KEY_ID || undefined,
    awsSecretAccessKey: env.AWS_SECRET_ACCESS_KEY || undefined,
    awsBucket: env.AWS_S3_BUCKET || undefined,
    s3Endpoint: env.S3_ENDPOINT || undefined,
    s3ForcePathStyle: bool(env.S3_FORCE_PATH_STYLE),
    s3PublicUrl: env.S3_PUBLIC_URL || undefined,
    r2AccountId: env.R2_ACCOUNT_ID || undefined,
    r2AccessKeyId: env.R2_ACCESS_KEY_ID || undefined,
    r2SecretAccessKey: env.R2_SECRET_ACCESS_KEY || undefined,
    r2Bucket: env.R2_BUCKET_NAME || undefined,
    r2Endpoint: env.R2_ENDPOINT || undefined,
    r2PublicUrl: env.R2_PUBLIC_URL || undefined,
  };
}

export function resolveDriver(config: StorageConfig): DriverName {
  if (config.driver) return config.driver;
  if (config.r2Bucket) return 'r2';
  if (config.awsBucket) return 's3';
  return 'local';
}

export function validateStorageConfig(config: StorageConfig, mode: RuntimeMode): ConfigProblem[] {
  const driver = resolveDriver(config);
  const missing = (pairs: readonly (readonly [unknown, string])[]) =>
    pairs.filter(([value]) => value === undefined).map(([, name]) => ({ path: name, message: `the ${driver} storage driver needs ${name}` }));
  if (driver === 's3') {
    return missing([
      [config.awsBucket, 'AWS_S3_BUCKET'],
      [config.awsRegion ?? (config.s3Endpoint ? 'custom' : undefined), 'AWS_REGION'],
      [config.awsAccessKeyId, 'AWS_ACCESS_KEY_ID'],
      [config.awsSecretAccessKey, 'AWS_SECRET_ACCESS_KEY'],
    ]);
  }
  if (driver === 'r2') {
    return missing([
      [config.r2Bucket, 'R2_BUCKET_NAME'],
      [config.r2Endpoint ?? config.r2AccountId, 'R2_ACCOUNT_ID'],
      [config.r2AccessKeyId, 'R2_ACCESS_KEY_ID'],
      [config.r2SecretAccessKey, 'R2_SECRET_ACCESS_KEY'],
    ]);
  }
  if (mode === 'production' && !config.signingKey) {
    return [{ path: 'STORAGE_SIGNING_KEY', message: 'the local storage driver signs download URLs: set STORAGE_SIGNING_KEY (32+ random bytes)' }];
  }
  if (config.signingKey !== undefined && config.signingKey.length < 32) {
    return [{ path: 'STORAGE_SIGNING_KEY', message: 'must be at least 32 characters (32+ random bytes, e.g. base64url)' }];
  }
  return [];
}
