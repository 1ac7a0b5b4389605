/**
 * Development convenience: secrets that production must set are generated once outside
 * production and kept in DATA_DIR/secrets.json (file mode 0600), so tokens and signed URLs survive
 * restarts and a first `npm start` needs no setup: JWT_SECRET (unless JWT_PRIVATE_KEY is set) and
 * STORAGE_SIGNING_KEY (the local storage driver's signed URLs). Production never gets here: it
 * must set its secrets.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BootError, type Env, type RuntimeMode } from '../core/index.ts';

interface DevSecret {
  readonly name: string;
  /** Variables whose presence makes this secret unnecessary. */
  readonly unlessSet: readonly string[];
  readonly bytes: number;
}

const DEV_SECRETS: readonly DevSecret[] = [
  { name: 'JWT_SECRET', unlessSet: ['JWT_PRIVATE_KEY'], bytes: 48 },
  { name: 'STORAGE_SIGNING_KEY', unlessSet: [], bytes: 32 },
];

export function withDevelopmentSecrets(env: Env, mode: RuntimeMode, dataDir: string): Env {
  if (mode === 'production') return env;
  const wanted = DEV_SECRETS.filter((s) => !env[s.name] && !s.unlessSet.some((other) => env[other]));
  if (wanted.length === 0) return env;
  const file = join(dataDir, 'secrets.json');
  let secrets: Record<string, string> = {};
  if (existsSync(file)) secrets = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
  const missing = wanted.filter((s) => !secrets[s.name]);
  if (missing.length > 0) {
    for (const s of missing) secrets[s.name] = randomBytes(s.bytes).toString('base64url');
    try {
      mkdirSync(dataDir, { recursive: true });
      writeFileSync(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
    } catch (err) {
      const why = (err as NodeJS.ErrnoException).code ?? String(err);
      throw new BootError(
        [{ path: 'DATA_DIR', message: `cannot keep development secrets in ${file} (${why}): make DATA_DIR writable, or set ${missing.map((s) => s.name).join(' and ')}` }],
        err,
      );
    }
  }
  return Object.freeze({ ...env, ...Object.fromEntries(wanted.map((s) => [s.name, secrets[s.name]!])) });
}
