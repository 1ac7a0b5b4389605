/**
 * `<NAME>_FILE`: the value of a secret read from a file, how Docker and Kubernetes hand secrets
 * to a process (`/run/secrets/…`), so they never sit in the environment or in `docker inspect`.
 * For the secrets listed below only: other `*_FILE` variables belong to other programs
 * (`TF_CLI_CONFIG_FILE`, `SSL_CERT_FILE`, …) and are none of our business. One trailing newline
 * is dropped (what `echo` and most editors add); anything else is kept as is. NAME and NAME_FILE
 * both set is a mistake, not a precedence rule: the operator is told.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { BootProblem, Env } from '../core/index.ts';

const FILE_SUFFIX = '_FILE';

/** Every variable that holds a secret (or a URL that may carry one). */
export const FILE_SECRETS: readonly string[] = [
  'DATABASE_URL',
  'JWT_SECRET',
  'JWT_PRIVATE_KEY',
  'RESEND_API_KEY',
  'SMTP_URL',
  'REDIS_URL',
  'UPSTASH_REDIS_REST_TOKEN',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'R2_ACCESS_KEY_ID',
  'R2_SECRET_ACCESS_KEY',
  'STORAGE_SIGNING_KEY',
  'W9_ENCRYPTION_KEYS',
  'W9_INDEX_KEY',
  'METRICS_TOKEN',
  'EMAIL_OUTBOX_KEY',
];

export function withFileSecrets(env: Env, cwd: string): { env: Env; problems: BootProblem[] } {
  const problems: BootProblem[] = [];
  const read: Record<string, string> = {};
  for (const name of FILE_SECRETS) {
    const key = `${name}${FILE_SUFFIX}`;
    const path = env[key];
    if (!path) continue;
    if (env[name]) {
      problems.push({ path: key, message: `${name} and ${key} are both set: keep one` });
      continue;
    }
    const file = resolve(cwd, path);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      // The path is the operator's, not a secret; the contents never appear in a message.
      problems.push({ path: key, message: `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})` });
      continue;
    }
    const value = text.replace(/\r?\n$/, '');
    if (value === '') {
      problems.push({ path: key, message: `${file} is empty` });
      continue;
    }
    read[name] = value;
  }
  return { env: Object.keys(read).length === 0 ? env : Object.freeze({ ...env, ...read }), problems };
}
