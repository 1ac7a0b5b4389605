/**
 * `empulse backup` / `empulse restore` as an operator runs them on the embedded database, with
 * the project's own empulse.config.ts: a backup taken while `empulse start` serves (through its
 * control socket), refused overwrites and bad files, restore refused while the server runs, then
 * a restore that brings back exactly what the backup held and keeps the replaced database aside.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createScratchDatabase, freePort } from '../host/testing.ts';
import { startMailbox, type Mailbox } from './support/mailbox.ts';
import { projectPath, projectRoot } from './support/paths.ts';
import { empulse } from './support/spawn-empulse.ts';
import { until } from './support/until.ts';

const PASSWORD = 'correct horse battery staple 42';

describe('empulse backup and restore (embedded database)', () => {
  let dir: string;
  let mailbox: Mailbox;
  let server: ChildProcessWithoutNullStreams | undefined;
  let env: Record<string, string>;
  let base: string;

  const startServer = async () => {
    server = spawn(process.execPath, [projectPath('host/node.ts'), 'start'], { cwd: projectRoot, env: { ...process.env, ...env } });
    let serverErr = '';
    server.stderr.on('data', (c: Buffer) => (serverErr += c.toString()));
    await until('the server to be ready', async () => (await fetch(`${base}/health/ready`).catch(() => undefined))?.status === 200, 90_000).catch(
      (err: unknown) => assert.fail(`${String(err)}\n${serverErr}`),
    );
  };
  const stopServer = async () => {
    const s = server!;
    const exited = new Promise<number | null>((resolve) => s.once('exit', (code) => resolve(code)));
    s.kill('SIGTERM');
    assert.equal(await exited, 0);
    server = undefined;
  };
  const register = async (email: string) => {
    const res = await fetch(`${base}/v1/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: PASSWORD, displayName: 'Backup' }),
    });
    assert.equal(res.status, 202);
  };
  /** Whether an account exists, asked as an operator would (exit 0, or 1 naming the email). */
  const accountExists = async (email: string) => {
    const run = await empulse(['users', 'set-role', email, 'artist'], env);
    assert.ok(run.code === 0 || run.code === 1, run.stderr);
    return run.code === 0;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'empulse-backup-'));
    mailbox = await startMailbox();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    env = { DATA_DIR: join(dir, 'data'), PORT: String(port), SMTP_URL: mailbox.url, PUBLIC_APP_URL: 'http://app.test', LOG_LEVEL: 'warn', DATABASE_URL: '' };
  });
  after(async () => {
    if (server && server.exitCode === null) server.kill('SIGKILL');
    await mailbox?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('backs up while the server runs, and refuses to overwrite a file', { timeout: 180_000 }, async () => {
    await startServer();
    await register('kept@example.test');
    const file = join(dir, 'backups', 'one.tar.gz');
    const run = await empulse(['backup', file], env);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /backed up the embedded database to .*one\.tar\.gz \(\d+\.\d MiB\)/);
    assert.match(run.stderr, /W9_ENCRYPTION_KEYS/, 'reminds what the backup cannot hold');
    assert.equal(statSync(file).mode & 0o777, 0o600, 'a backup holds every table: owner-only');
    assert.ok(!existsSync(`${file}.partial`));

    const again = await empulse(['backup', file], env);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /exists: choose a new name/);

    // Written after the backup: a restore must not bring it back.
    await register('later@example.test');
    assert.equal(await accountExists('later@example.test'), true);

    const refused = await empulse(['restore', file], env);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /in use by another Empulse process \(pid \d+\)/);
    await stopServer();
  });

  it('restores exactly what the backup held, keeps the replaced database aside, and the server starts on it', { timeout: 180_000 }, async () => {
    const file = join(dir, 'backups', 'one.tar.gz');
    const run = await empulse(['restore', file], env);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /restored the embedded database from/);
    assert.match(run.stdout, /kept at .*db\.before-restore-/);
    assert.ok(readdirSync(env.DATA_DIR!).some((name) => name.startsWith('db.before-restore-')));
    assert.ok(!readdirSync(env.DATA_DIR!).some((name) => name.includes('.restoring-')), 'no half-restored directory is left');

    assert.equal(await accountExists('kept@example.test'), true);
    assert.equal(await accountExists('later@example.test'), false);
    await startServer();
    assert.equal((await fetch(`${base}/health/ready`)).status, 200);
    await stopServer();
  });

  it('refuses a file that is not a backup, changing nothing', { timeout: 60_000 }, async () => {
    const bogus = join(dir, 'bogus.tar.gz');
    writeFileSync(bogus, 'not a backup at all');
    const before = readdirSync(env.DATA_DIR!).sort();
    const run = await empulse(['restore', bogus], env);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /is not an Empulse backup/);
    const truncated = join(dir, 'truncated.tar.gz');
    writeFileSync(truncated, Buffer.from([0x1f, 0x8b, 0x08, 0x00, 1, 2, 3]));
    const broken = await empulse(['restore', truncated], env);
    assert.equal(broken.code, 1);
    assert.match(broken.stderr, /could not be opened .*nothing was changed/);
    assert.deepEqual(readdirSync(env.DATA_DIR!).sort(), before);
    assert.equal(await accountExists('kept@example.test'), true);

    const missing = await empulse(['restore', join(dir, 'nope.tar.gz')], env);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no backup at/);
    const usage = await empulse(['backup'], env);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /usage: empulse backup <file>/);
  });

  it('points PostgreSQL deployments at pg_dump', { timeout: 60_000 }, async () => {
    const scratch = await createScratchDatabase();
    try {
      const run = await empulse(['backup', join(dir, 'pg.tar.gz')], { ...env, DATABASE_URL: scratch.url });
      assert.equal(run.code, 2);
      assert.match(run.stderr, /use pg_dump/);
      assert.ok(!existsSync(join(dir, 'pg.tar.gz')));
    } finally {
      await scratch.drop();
    }
  });
});
