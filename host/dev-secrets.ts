/**
 * Development convenience: when no signing key is configured outside production, a random
 * JWT_SECRET is generated once and kept in DATA_DIR (file mode 0600), so tokens survive restarts
 * and a first `npm start` needs no setup. Production never gets here: it must set its secrets.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Env, RuntimeMode } from '../core/index.ts';

export function withDevelopmentSecrets(env: Env, mode: RuntimeMode, dataDir: string): Env {
  if (mode === 'production' || env.JWT_SECRET || env.JWT_PRIVATE_KEY) return env;
  const file = join(dataDir, 'secrets.json');
  let secrets: Record<string, string> = {};
  if (existsSync(file)) secrets = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
  if (!secrets.JWT_SECRET) {
    secrets.JWT_SECRET = randomBytes(48).toString('base64url');
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  }
  return Object.freeze({ ...env, JWT_SECRET: secrets.JWT_SECRET });
}
