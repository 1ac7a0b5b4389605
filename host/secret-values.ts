/**
 * New values for the secrets an operator sets, in the formats their plugins parse, from Node's
 * CSPRNG. Used by `npx empulse secrets` (production values to put in `.env` or a secret store)
 * and by the development secrets the host keeps in DATA_DIR.
 */
import { randomBytes } from 'node:crypto';

const base64url = (bytes: number) => () => randomBytes(bytes).toString('base64url');
const base64 = (bytes: number) => () => randomBytes(bytes).toString('base64');

/**
 * A W-9 key ring of one key. The key id names the day it was made (a later key added in front
 * of it is easy to tell apart) plus a random suffix, so two rings made the same day never share
 * an id with different bytes.
 */
export const newKeyRing = (prefix: string) => () =>
  `${prefix}${new Date().toISOString().slice(0, 10).replace(/-/g, '')}-${randomBytes(3).toString('hex')}:${base64(32)()}`;

export const SECRET_MAKERS = {
  JWT_SECRET: base64url(48),
  STORAGE_SIGNING_KEY: base64url(32),
  W9_ENCRYPTION_KEYS: newKeyRing('k'),
  W9_INDEX_KEY: base64(32),
  METRICS_TOKEN: base64url(32),
  EMAIL_OUTBOX_KEY: base64url(32),
  // For the PostgreSQL container of a compose deployment (and its DATABASE_URL): URL-safe.
  POSTGRES_PASSWORD: base64url(24),
} as const satisfies Record<string, () => string>;

/** `.env` lines with a fresh value for every secret an operator sets. */
export function secretsEnvLines(): string[] {
  return [
    `# made by \`npx empulse secrets\` on ${new Date().toISOString()}: keep them out of version control, and keep W9_* with your backups`,
    ...Object.entries(SECRET_MAKERS).map(([name, make]) => `${name}=${make()}`),
  ];
}
