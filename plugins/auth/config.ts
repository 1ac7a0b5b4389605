/** The auth plugin's options, their environment variables and production checks. */
import * as v from 'valibot';
import type { ConfigProblem, Env, RuntimeMode } from '../../core/index.ts';

const seconds = (fallback: number, min = 1) => v.optional(v.pipe(v.number(), v.integer(), v.minValue(min)), fallback);

export const authConfigSchema = v.strictObject({
  /** HS256 secret (JWT_SECRET), at least 32 bytes. */
  jwtSecret: v.optional(v.string()),
  /** EdDSA or ES256 private key (JWT_PRIVATE_KEY) as PKCS#8 PEM or JWK; public keys go to the JWKS. */
  jwtPrivateKey: v.optional(v.string()),
  issuer: v.optional(v.string(), 'empulse'),
  accessTokenTtlSeconds: seconds(15 * 60, 60),
  refreshIdleTtlSeconds: seconds(30 * 24 * 3600, 60),
  refreshAbsoluteTtlSeconds: seconds(90 * 24 * 3600, 60),
  verificationTtlSeconds: seconds(24 * 3600, 60),
  resetTtlSeconds: seconds(30 * 60, 60),
  /** argon2id cost: OWASP's minimum (19 MiB, 2 passes, 1 lane) or stronger. */
  argon2: v.optional(
    v.strictObject({
      memoryKiB: v.optional(v.pipe(v.number(), v.integer(), v.minValue(19456)), 19456),
      passes: v.optional(v.pipe(v.number(), v.integer(), v.minValue(2)), 2),
      parallelism: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 1),
    }),
    {},
  ),
  /** Hashes computed at once; more logins queue so a burst cannot starve the server. */
  hashConcurrency: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(64))),
  /** Origins whose cookie-mode requests are accepted (ALLOWED_ORIGINS). */
  allowedOrigins: v.optional(v.array(v.string()), []),
});

export type AuthConfig = v.InferOutput<typeof authConfigSchema>;

export function authConfigFromEnv(env: Env): Partial<v.InferInput<typeof authConfigSchema>> {
  return {
    jwtSecret: env.JWT_SECRET || undefined,
    jwtPrivateKey: env.JWT_PRIVATE_KEY || undefined,
    allowedOrigins: env.ALLOWED_ORIGINS ? env.ALLOWED_ORIGINS.split(',').map((s) => s.trim()).filter(Boolean) : undefined,
  };
}

export function validateAuthConfig(config: AuthConfig, _mode: RuntimeMode): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (config.jwtSecret !== undefined && new TextEncoder().encode(config.jwtSecret).length < 32) {
    problems.push({ path: 'JWT_SECRET', message: 'must be at least 32 bytes (e.g. `openssl rand -base64 48`)' });
  }
  if (config.jwtSecret === undefined && config.jwtPrivateKey === undefined) {
    problems.push({
      path: 'JWT_SECRET',
      message: 'set JWT_SECRET (at least 32 bytes) or JWT_PRIVATE_KEY (EdDSA/ES256) to sign access tokens',
    });
  }
  if (config.refreshAbsoluteTtlSeconds < config.refreshIdleTtlSeconds) {
    problems.push({ path: 'refreshAbsoluteTtlSeconds', message: 'must not be shorter than refreshIdleTtlSeconds' });
  }
  return problems;
}
