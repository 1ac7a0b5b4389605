/**
 * Development convenience: secrets that production must set are generated once outside
 * production and kept in DATA_DIR/secrets.json (file mode 0600), so tokens and signed URLs survive
 * restarts and a first `npm start` needs no setup: JWT_SECRET (unless JWT_PRIVATE_KEY is set),
 * STORAGE_SIGNING_KEY (the local storage driver's signed URLs), W9_ENCRYPTION_KEYS (a one-key
 * ring) and W9_INDEX_KEY (the W-9 plugin's). Production never gets here: it must set its secrets.
 * Losing this file loses what they protect (development W-9 forms no longer decrypt): the host
 * logs where it is whenever it creates a secret.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BootError, type Env, type RuntimeMode } from '../core/index.ts';
import { newKeyRing, SECRET_MAKERS } from './secret-values.ts';

interface DevSecret {
  readonly name: string;
  /** Variables whose presence makes this secret unnecessary. */
  readonly unlessSet: readonly string[];
  /** A new value (random: Node's CSPRNG). */
  readonly make: () => string;
}

const DEV_SECRETS: readonly DevSecret[] = [
  { name: 'JWT_SECRET', unlessSet: ['JWT_PRIVATE_KEY'], make: SECRET_MAKERS.JWT_SECRET },
  { name: 'STORAGE_SIGNING_KEY', unlessSet: [], make: SECRET_MAKERS.STORAGE_SIGNING_KEY },
  { name: 'W9_ENCRYPTION_KEYS', unlessSet: [], make: newKeyRing('dev-') },
  { name: 'W9_INDEX_KEY', unlessSet: [], make: SECRET_MAKERS.W9_INDEX_KEY },
];

export interface DevelopmentSecrets {
  readonly env: Env;
  /** The file the secrets are kept in, when any were taken from it. */
  readonly file: string | undefined;
  /** Names of the secrets created by this call (the first run, or one after a new secret appeared). */
  readonly created: readonly string[];
  /** Names of the secrets taken from the file. */
  readonly used: readonly string[];
}

export function withDevelopmentSecrets(env: Env, mode: RuntimeMode, dataDir: string): DevelopmentSecrets {
  const none = { env, file: undefined, created: [], used: [] };
  if (mode === 'production') return none;
  const wanted = DEV_SECRETS.filter((s) => !env[s.name] && !s.unlessSet.some((other) => env[other]));
  if (wanted.length === 0) return none;
  const file = join(dataDir, 'secrets.json');
  let secrets: Record<string, string> = {};
  if (existsSync(file)) secrets = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
  const missing = wanted.filter((s) => !secrets[s.name]);
  if (missing.length > 0) {
    for (const s of missing) secrets[s.name] = s.make();
    try {
      mkdirSync(dataDir, { recursive: true });
      writeFileSync(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
    } catch (err) {
      const why = (err as NodeJS.ErrnoException).code ?? String(err);
      throw new BootError(
        [{ path: 'DATA_DIR', message: `cannot keep development secrets in ${file} (${why}): make DATA_DIR writable, or set ${spokenList(missing.map((s) => s.name))}` }],
        err,
      );
    }
  }
  return {
    env: Object.freeze({ ...env, ...Object.fromEntries(wanted.map((s) => [s.name, secrets[s.name]!])) }),
    file,
    created: missing.map((s) => s.name),
    used: wanted.map((s) => s.name),
  };
}

/** `A`, `A and B`, `A, B and C`. */
function spokenList(names: readonly string[]): string {
  return names.length <= 1 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}
