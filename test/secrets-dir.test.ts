/**
 * `npx empulse secrets --dir <dir>` (host/cli.ts, host/secret-values.ts): one file per secret,
 * named as compose.yaml's `secrets:` expect, mode 0600 in a 0700 directory, a DATABASE_URL made
 * from the PostgreSQL password for compose's `postgres` service, only names printed (never a
 * value), and never an overwrite. compose.yaml's app environment pointed at the files passes
 * production's boot checks.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Env } from '../core/index.ts';
import { bootstrap } from '../host/bootstrap.ts';
import { runCli } from '../host/cli.ts';
import { FILE_SECRETS } from '../host/file-secrets.ts';
import { captureLogger } from './support/capture-logger.ts';
import { projectPath, projectRoot } from './support/paths.ts';

interface CliResult {
  code: number;
  out: string[];
  err: string[];
}

interface ComposeService {
  environment?: Record<string, string>;
  secrets?: string[];
}

interface ComposeFile {
  services: Record<string, ComposeService>;
  secrets: Record<string, { file: string }>;
}

// compose.yaml, parsed with the `yaml` package dclint (a devDependency) brings.
const parseYaml = (createRequire(import.meta.resolve('dclint'))('yaml') as { parse(text: string): unknown }).parse;
const compose = parseYaml(readFileSync(projectPath('compose.yaml'), 'utf8')) as ComposeFile;

describe('npx empulse secrets --dir', () => {
  let cwd: string;
  before(async () => {
    cwd = await mkdtemp(join(tmpdir(), 'empulse-secrets-dir-'));
  });
  after(() => rm(cwd, { recursive: true, force: true }));

  async function cli(args: readonly string[]): Promise<CliResult> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(args, {
      cwd,
      env: { LOG_LEVEL: 'silent' },
      out: (line) => out.push(...line.split('\n')),
      err: (line) => err.push(...line.split('\n')),
      onSignal: () => {},
    });
    return { code, out, err };
  }
  const show = (r: CliResult) => `exit ${r.code}\nout:\n${r.out.join('\n')}\nerr:\n${r.err.join('\n')}`;
  const contents = async (dir: string) =>
    Object.fromEntries(await Promise.all((await readdir(dir)).sort().map(async (f) => [f, await readFile(join(dir, f), 'utf8')] as const)));

  it('writes one file per secret compose.yaml mounts, 0600 in a 0700 directory, printing names and never values', async () => {
    const r = await cli(['secrets', '--dir', 'deploy/secrets']);
    assert.equal(r.code, 0, show(r));
    const dir = join(cwd, 'deploy', 'secrets');
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    const files = await contents(dir);

    // Exactly the files compose.yaml's top-level secrets name (./secrets/<name>, under the name).
    const expected = Object.entries(compose.secrets).map(([name, s]) => {
      assert.equal(s.file, `./secrets/${name}`, `compose.yaml's secret ${name} is read from ./secrets/${name}`);
      return name;
    });
    assert.deepEqual(Object.keys(files), expected.sort());
    for (const [name, value] of Object.entries(files)) {
      assert.equal(statSync(join(dir, name)).mode & 0o777, 0o600, name);
      assert.match(value, /^\S+$/, `${name}: one token, no newline`);
      assert.ok(!r.out.join('\n').includes(value), `the answer must not show ${name}'s value`);
      assert.ok(r.out.some((line) => line.trim().startsWith(`${name} `)), `the answer names ${name}`);
    }
    assert.ok(Buffer.from(files.jwt_secret!, 'base64url').length >= 32);
    assert.match(files.w9_encryption_keys!, /^k\d{8}-[0-9a-f]{6}:[A-Za-z0-9+/]{43}=$/);
    assert.equal(Buffer.from(files.w9_index_key!, 'base64').length, 32);

    // The app's URL reaches compose's postgres service as the user and database it creates.
    const postgres = compose.services.postgres!.environment!;
    const url = new URL(files.database_url!);
    assert.equal(url.protocol, 'postgresql:');
    assert.equal(url.hostname, 'postgres');
    assert.equal(url.port, '5432');
    assert.equal(url.username, postgres.POSTGRES_USER);
    assert.equal(decodeURIComponent(url.password), files.postgres_password);
    assert.equal(url.pathname, `/${postgres.POSTGRES_DB}`);
    assert.equal(postgres.POSTGRES_PASSWORD_FILE, '/run/secrets/postgres_password');

    // Two runs make different secrets.
    const other = await cli(['secrets', '--dir', 'other']);
    assert.equal(other.code, 0, show(other));
    const second = await contents(join(cwd, 'other'));
    for (const name of Object.keys(files)) assert.notEqual(second[name], files[name], name);
  });

  it('wires compose.yaml\'s app to the files: every *_FILE names a mounted secret the app reads, and production boots from them', async () => {
    const r = await cli(['secrets', '--dir', 'wired']);
    assert.equal(r.code, 0, show(r));
    const app = compose.services.app!;
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(app.environment ?? {})) {
      const secret = /^\/run\/secrets\/(.+)$/.exec(String(value))?.[1];
      if (!secret) {
        env[name] = String(value);
        continue;
      }
      assert.ok(name.endsWith('_FILE') && FILE_SECRETS.includes(name.slice(0, -'_FILE'.length)), `${name}: the app reads no such variable`);
      assert.ok(app.secrets?.includes(secret), `${name}: the app does not mount secret ${secret}`);
      env[name] = join(cwd, 'wired', secret);
    }
    // What the README puts in .env.
    const dotEnv: Env = { EMAIL_FROM: 'Label <no-reply@label.example>', PUBLIC_APP_URL: 'https://app.label.example', SMTP_URL: 'smtp://smtp.label.example:587' };
    const logs = captureLogger('info');
    const booted = await bootstrap(projectRoot, { ...env, ...dotEnv, DATA_DIR: join(cwd, 'wired-data') }, logs.logger);
    assert.equal(booted.settings.mode, 'production');
    assert.equal(booted.settings.database.driver, 'postgresql');
    for (const value of Object.values(await contents(join(cwd, 'wired')))) {
      assert.ok(!logs.text().includes(value), 'no secret in the log');
    }
  });

  it('refuses to overwrite: any existing file stops it before it writes anything', async () => {
    const r = await cli(['secrets', '--dir', 'once']);
    assert.equal(r.code, 0, show(r));
    const before = await contents(join(cwd, 'once'));
    const again = await cli(['secrets', '--dir', 'once']);
    assert.equal(again.code, 1, show(again));
    assert.match(again.err.join('\n'), /already holds jwt_secret, .*nothing written/);
    assert.deepEqual(await contents(join(cwd, 'once')), before, 'unchanged');

    // A directory holding one of the names (and something of the operator's): nothing added.
    await mkdir(join(cwd, 'partial'));
    await writeFile(join(cwd, 'partial', 'w9_index_key'), 'the key the W-9 forms were indexed with');
    await writeFile(join(cwd, 'partial', 'README'), 'mine');
    const partial = await cli(['secrets', '--dir', 'partial']);
    assert.equal(partial.code, 1, show(partial));
    assert.match(partial.err.join('\n'), /already holds w9_index_key: nothing written/);
    assert.deepEqual(Object.keys(await contents(join(cwd, 'partial'))), ['README', 'w9_index_key']);
    assert.equal(await readFile(join(cwd, 'partial', 'w9_index_key'), 'utf8'), 'the key the W-9 forms were indexed with');
  });

  it('is a usage error (exit 2) without a directory or with anything else', async () => {
    for (const args of [['secrets', '--dir'], ['secrets', '--force'], ['secrets', '--dir', 'a', 'b'], ['secrets', 'dir']]) {
      const r = await cli(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${show(r)}`);
      assert.match(r.err.join('\n'), /usage: empulse secrets \[--dir <dir>\]/);
      assert.deepEqual(r.out, []);
    }
  });
});
