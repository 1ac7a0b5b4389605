/**
 * `<NAME>_FILE` secrets, as Docker and Kubernetes mount them: production boots with every secret
 * it requires given as a file (and with none of them in the environment), a trailing newline is
 * dropped, and a file that cannot be read, an empty one, or NAME set beside NAME_FILE is a boot
 * error naming the variable and the path, never the contents.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BootError } from '../core/index.ts';
import { bootstrap } from '../host/bootstrap.ts';
import { withFileSecrets } from '../host/file-secrets.ts';
import { captureLogger } from './support/capture-logger.ts';
import { projectRoot } from './support/paths.ts';

describe('<NAME>_FILE secrets', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'empulse-file-secrets-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const secretFile = async (name: string, contents: string) => {
    const path = join(dir, name);
    await writeFile(path, contents, { mode: 0o600 });
    return path;
  };

  it('reads NAME from NAME_FILE, dropping one trailing newline and keeping everything else', async () => {
    const jwt = await secretFile('jwt', 'a-secret-with-trailing-newline\n');
    const crlf = await secretFile('crlf', 'windows-line\r\n');
    const spaced = await secretFile('spaced', '  kept as is  \n\n');
    await secretFile('relative', 'found from the working directory');
    const { env, problems } = withFileSecrets(
      { JWT_SECRET_FILE: jwt, SMTP_URL_FILE: crlf, RESEND_API_KEY_FILE: spaced, METRICS_TOKEN_FILE: 'relative', OTHER: 'x', TF_CLI_CONFIG_FILE: join(dir, 'not-ours') },
      dir,
    );
    assert.deepEqual(problems, [], 'other programs\' *_FILE variables are left alone');
    assert.equal(env.JWT_SECRET, 'a-secret-with-trailing-newline');
    assert.equal(env.SMTP_URL, 'windows-line');
    assert.equal(env.RESEND_API_KEY, '  kept as is  \n');
    assert.equal(env.TF_CLI_CONFIG, undefined);
    assert.equal(env.METRICS_TOKEN, 'found from the working directory');
    assert.equal(env.OTHER, 'x');
  });

  it('refuses NAME beside NAME_FILE, an unreadable file and an empty one, naming the variable and never the contents', async () => {
    const secret = 'do-not-print-me-0123456789';
    const file = await secretFile('both', secret);
    const empty = await secretFile('empty', '\n');
    const { problems } = withFileSecrets(
      { JWT_SECRET: 'inline', JWT_SECRET_FILE: file, W9_INDEX_KEY_FILE: join(dir, 'missing'), W9_ENCRYPTION_KEYS_FILE: empty },
      dir,
    );
    const lines = problems.map((p) => `${p.path}: ${p.message}`);
    assert.deepEqual(lines, [
      'JWT_SECRET_FILE: JWT_SECRET and JWT_SECRET_FILE are both set: keep one',
      `W9_ENCRYPTION_KEYS_FILE: ${empty} is empty`,
      `W9_INDEX_KEY_FILE: cannot read ${join(dir, 'missing')} (ENOENT)`,
    ]);
    assert.ok(!lines.join('\n').includes(secret));
  });

  it('lets production boot with every required secret given as a file, and reports file problems with the others', async () => {
    const key = randomBytes(32).toString('base64');
    const files = {
      JWT_SECRET_FILE: await secretFile('jwt-prod', `${randomBytes(48).toString('base64url')}\n`),
      STORAGE_SIGNING_KEY_FILE: await secretFile('signing', randomBytes(32).toString('base64url')),
      W9_ENCRYPTION_KEYS_FILE: await secretFile('ring', `k1:${key}\n`),
      W9_INDEX_KEY_FILE: await secretFile('index', `${key}\n`),
      RESEND_API_KEY_FILE: await secretFile('resend', 're_test_key\n'),
      DATABASE_URL_FILE: await secretFile('database', 'postgresql://postgres@127.0.0.1:5432/never_opened_here\n'),
    };
    const env = { NODE_ENV: 'production', DATA_DIR: join(dir, 'data'), EMAIL_FROM: 'label@example.test', PUBLIC_APP_URL: 'https://app.example.test', ...files };
    const logs = captureLogger('info');
    const booted = await bootstrap(projectRoot, env, logs.logger);
    assert.equal(booted.settings.mode, 'production');
    assert.equal(booted.settings.database.driver, 'postgresql');
    const described = booted.kernel.describe();
    assert.equal((described.find((d) => d.id === 'w9-encryption')?.config as Record<string, unknown>).encryptionKeys, '[redacted]');
    assert.ok(!JSON.stringify(described).includes(key), 'no secret in the description');
    assert.ok(!logs.text().includes(key), 'no secret in the log');

    // The same deployment with one file gone: the boot error names it (and production's own rule).
    await assert.rejects(bootstrap(projectRoot, { ...env, W9_INDEX_KEY_FILE: join(dir, 'gone') }, captureLogger('info').logger), (err: unknown) => {
      assert.ok(err instanceof BootError);
      const lines = err.problems.map((p) => `${p.path}: ${p.message}`);
      assert.ok(lines.includes(`W9_INDEX_KEY_FILE: cannot read ${join(dir, 'gone')} (ENOENT)`), lines.join('\n'));
      assert.ok(lines.some((l) => l.startsWith('W9_INDEX_KEY: ')), lines.join('\n'));
      return true;
    });
  });
});
