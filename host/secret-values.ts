/**
 * New values for the secrets an operator sets, in the formats their plugins parse, from Node's
 * CSPRNG. Used by `npx empulse secrets` (production values to put in `.env` or a secret store;
 * with `--dir`, one file per secret for compose.yaml) and by the development secrets the host
 * keeps in DATA_DIR.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { FILE_SECRETS } from './file-secrets.ts';

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

/** The uid the Dockerfile's user (`node`) has, which must be able to read the app's secret files. */
export const APP_UID = 1000;

/**
 * Where compose.yaml's PostgreSQL is, as the app container sees it: the `postgres` service, its
 * POSTGRES_USER and POSTGRES_DB. The `database_url` file is built from these and the password.
 */
export const COMPOSE_DATABASE = { user: 'empulse', host: 'postgres', port: 5432, database: 'empulse' } as const;

/** A new secret for the file layout of `npx empulse secrets --dir`: its file name and who reads it. */
export interface SecretFile {
  /** The file's name in the directory, and the `secrets:` entry of compose.yaml that mounts it. */
  readonly file: string;
  /** Who reads it, for the command's answer (never the value). */
  readonly readBy: string;
  readonly value: string;
}

/**
 * The S3-compatible store of compose.yaml's `s3` profile (MinIO) takes its root user and password
 * from files; the app reads the same files through AWS_*_FILE. An access key id is not secret but
 * must be a plain token; upper-case hex reads like one.
 */
const s3AccessKeyId = () => randomBytes(10).toString('hex').toUpperCase();

/**
 * One file per secret a compose deployment mounts under /run/secrets: every secret above that the
 * app can read from a file (`<NAME>_FILE`, host/file-secrets.ts), PostgreSQL's password (the
 * postgres image reads POSTGRES_PASSWORD_FILE), the app's DATABASE_URL made from that password,
 * and the s3 profile's credentials. A secret the app could not read from a file
 * is left out: it would sit unused in the directory while the app derives its own.
 */
export function newSecretFiles(): SecretFile[] {
  const files: SecretFile[] = Object.entries(SECRET_MAKERS)
    .filter(([name]) => FILE_SECRETS.includes(name))
    .map(([name, make]) => ({ file: name.toLowerCase(), readBy: `the app, as ${name}_FILE`, value: make() }));
  const password = SECRET_MAKERS.POSTGRES_PASSWORD();
  const db = COMPOSE_DATABASE;
  files.push(
    { file: 'postgres_password', readBy: 'the postgres service, as POSTGRES_PASSWORD_FILE', value: password },
    {
      file: 'database_url',
      readBy: 'the app, as DATABASE_URL_FILE',
      value: `postgresql://${db.user}:${password}@${db.host}:${db.port}/${db.database}`,
    },
    { file: 's3_access_key_id', readBy: 'the s3 profile (MinIO root user; the app with AWS_ACCESS_KEY_ID_FILE)', value: s3AccessKeyId() },
    { file: 's3_secret_access_key', readBy: 'the s3 profile (MinIO root password; the app with AWS_SECRET_ACCESS_KEY_FILE)', value: base64url(30)() },
  );
  return files;
}

/**
 * `npx empulse secrets --dir <dir>`: writes newSecretFiles() into `dir` (created with mode 0700),
 * each file mode 0600 and without a trailing newline. Refuses, writing nothing, when any of the
 * files exists: a second run must never replace keys that encrypt data (W-9 forms) or the
 * database's password. Returns the lines to print: file names and readers, never a value.
 */
export function writeSecretFiles(cwd: string, dirArg: string): string[] {
  const dir = resolve(cwd, dirArg);
  const files = newSecretFiles();
  let created: boolean;
  try {
    // recursive: also makes missing parents; returns undefined when `dir` already existed.
    created = mkdirSync(dir, { recursive: true, mode: 0o700 }) !== undefined;
  } catch (err) {
    throw new Error(`cannot create ${dir} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  if (!statSync(dir).isDirectory()) throw new Error(`${dir} exists and is not a directory`);
  const existing = files.filter((f) => existsSync(join(dir, f.file))).map((f) => f.file);
  if (existing.length > 0) {
    throw new Error(
      `${dir} already holds ${existing.join(', ')}: nothing written (replacing them would lock out the data they protect; move them away first, or choose another --dir)`,
    );
  }
  const lines = [`wrote ${files.length} secret files to ${dir} (mode 0600${created ? ', directory 0700' : ''}):`];
  for (const f of files) {
    // 'wx' fails if the file appeared since the check: never overwrite, even in a race.
    writeFileSync(join(dir, f.file), f.value, { mode: 0o600, flag: 'wx' });
    lines.push(`  ${f.file.padEnd(22)} ${f.readBy}`);
  }
  if (!created && (statSync(dir).mode & 0o077) !== 0) {
    lines.push(`note: ${dir} existed and other users may list it (chmod 700 it)`);
  }
  // Compose mounts secret files as they are (its uid/gid/mode options are Swarm-only), and the
  // Dockerfile's user is uid 1000: a file only its owner may read must belong to that uid.
  const uid = process.getuid?.();
  if (uid !== undefined && uid !== APP_UID) {
    lines.push(`the app's container runs as uid ${APP_UID} and compose mounts these files with their owner and mode: run \`chown ${APP_UID} ${dir}/*\` (as root) before \`docker compose up\``);
  }
  lines.push('keep them out of version control, and keep w9_* with your backups: without them the W-9 forms cannot be read');
  return lines;
}
