/**
 * CLI commands that plugins add (`empulse users set-role`, `empulse audit verify`), as an operator
 * runs them with the project's own `empulse.config.ts`:
 * - on the embedded database while `empulse start` runs (the command travels through the
 *   server's control socket in DATA_DIR, because only one process may open that database), and
 *   again once the server stopped (the command then opens the database itself);
 * - on PostgreSQL, beside the server, in-process;
 * - and the kernel's rules for commands: names unique across plugins, the host's words reserved.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { BootError, createLogger, definePlugin, Kernel } from '../core/index.ts';
import { runCli } from '../host/cli.ts';
import { createScratchDatabase, freePort } from '../host/testing.ts';
import { linkToken, startMailbox, type Mailbox } from './support/mailbox.ts';
import { projectPath, projectRoot } from './support/paths.ts';
import { empulse } from './support/spawn-empulse.ts';
import { until } from './support/until.ts';

const APP_URL = 'http://app.test';
const PASSWORD = 'correct horse battery staple 42';

async function json(res: Response): Promise<Record<string, unknown>> {
  return (await res.json()) as Record<string, unknown>;
}

describe('plugin commands on the embedded database, beside and without a running server', () => {
  let dataDir: string;
  let mailbox: Mailbox;
  let server: ChildProcessWithoutNullStreams | undefined;
  let env: Record<string, string>;
  let base: string;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'empulse-commands-'));
    mailbox = await startMailbox();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    env = { DATA_DIR: dataDir, PORT: String(port), SMTP_URL: mailbox.url, PUBLIC_APP_URL: APP_URL, LOG_LEVEL: 'warn', DATABASE_URL: '' };
  });

  after(async () => {
    if (server && server.exitCode === null) server.kill('SIGKILL');
    await mailbox?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('makes the first admin with "users set-role" while npm start runs, and audits it with actor cli', { timeout: 120_000 }, async () => {
    server = spawn(process.execPath, [projectPath('host/node.ts'), 'start'], { cwd: projectRoot, env: { ...process.env, ...env } });
    let serverErr = '';
    server.stderr.on('data', (c: Buffer) => (serverErr += c.toString()));
    await until('the server to be ready', async () => (await fetch(`${base}/health/ready`).catch(() => undefined))?.status === 200, 90_000).catch(
      (err: unknown) => assert.fail(`${String(err)}\n${serverErr}`),
    );
    assert.ok(existsSync(join(dataDir, 'empulse.sock')), 'the server listens on its control socket in DATA_DIR');

    const email = 'first.admin@label.test';
    const registered = await fetch(`${base}/v1/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: PASSWORD, displayName: 'First Admin' }),
    });
    assert.equal(registered.status, 202);
    const mail = await mailbox.waitFor(email, /verify|confirm/i, 20_000);
    const verified = await fetch(`${base}/v1/auth/verify-email`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: linkToken(mail, APP_URL, '/verify-email') }),
    });
    assert.equal(verified.status, 200);

    const unknown = await empulse(['users', 'set-role', 'nobody@label.test', 'admin'], env);
    assert.equal(unknown.code, 1, unknown.stderr);
    assert.match(unknown.stderr, /nobody@label\.test/);

    const badRole = await empulse(['users', 'set-role', email, 'owner'], env);
    assert.equal(badRole.code, 2, badRole.stderr);

    const promoted = await empulse(['users', 'set-role', email, 'admin'], env);
    assert.equal(promoted.code, 0, promoted.stderr);
    assert.match(promoted.stdout, /now admin \(was artist\)/);

    const login = await fetch(`${base}/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: PASSWORD }),
    });
    assert.equal(login.status, 200);
    const pair = await json(login);
    assert.equal((pair.user as { role: string }).role, 'admin');
    const auth = { authorization: `Bearer ${String(pair.accessToken)}` };

    const users = await fetch(`${base}/v1/admin/users?q=FIRST.ADMIN`, { headers: auth });
    assert.equal(users.status, 200);
    const listed = (await json(users)).items as { email: string; role: string; lastLoginAt: string | null }[];
    assert.deepEqual(
      listed.map((u) => [u.email, u.role]),
      [[email, 'admin']],
    );
    assert.ok(listed[0]!.lastLoginAt, 'the login is recorded');

    const audit = await fetch(`${base}/v1/admin/audit?action=user.role.changed`, { headers: auth });
    assert.equal(audit.status, 200);
    const entries = (await json(audit)).items as { actor: string; actorId: string | null; targetId: string; details: { from: string; to: string } }[];
    assert.equal(entries.length, 1);
    assert.equal(entries[0]!.actor, 'cli');
    assert.equal(entries[0]!.actorId, null);
    assert.deepEqual([entries[0]!.details.from, entries[0]!.details.to], ['artist', 'admin']);

    const verify = await empulse(['audit', 'verify'], env);
    assert.equal(verify.code, 0, verify.stderr);
    assert.match(verify.stdout, /1 entries, hash chain intact/);

    // Read-only host commands work beside the running server too (it answers them).
    const status = await empulse(['migrate', 'status'], env);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /^applied\s+kernel\/0001_plugins_ledger/m);
    assert.match(status.stdout, /^applied\s+w9-encryption\/0001_create_forms/m);
    const check = await empulse(['check'], env);
    assert.equal(check.code, 0, check.stdout + check.stderr);
    assert.match(check.stdout, /^config: ok$/m);
    assert.match(check.stdout, /^database: ok \(pglite\)$/m);
    assert.match(check.stdout, /^migrations: up to date$/m);
    assert.match(check.stdout, /^w9-keys: ok in /m);
  });

  it('runs the command itself once the server has stopped', { timeout: 60_000 }, async () => {
    assert.ok(server, 'the previous test started the server');
    const exited = new Promise<number | null>((resolve) => server!.once('exit', (code) => resolve(code)));
    server!.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.equal(existsSync(join(dataDir, 'empulse.sock')), false, 'the control socket is removed at shutdown');

    const again = await empulse(['users', 'set-role', 'first.admin@label.test', 'admin'], env);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /already has the role admin/);
    const verify = await empulse(['audit', 'verify'], env);
    assert.equal(verify.code, 0, verify.stderr);
    assert.match(verify.stdout, /2 entries, hash chain intact/);
  });
});

describe('plugin commands on PostgreSQL', () => {
  let url: string;
  let drop: () => Promise<void>;
  let dataDir: string;

  before(async () => {
    const scratch = await createScratchDatabase();
    url = scratch.url;
    drop = scratch.drop;
    dataDir = await mkdtemp(join(tmpdir(), 'empulse-commands-pg-'));
  });

  after(async () => {
    await drop?.();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  async function cli(args: readonly string[]): Promise<{ code: number; out: string; err: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(args, {
      cwd: projectRoot,
      env: { DATABASE_URL: url, DATA_DIR: dataDir, LOG_LEVEL: 'silent' },
      out: (l) => out.push(l),
      err: (l) => err.push(l),
      onSignal: () => {},
    });
    return { code, out: out.join('\n'), err: err.join('\n') };
  }

  it('refuses to run on a database with pending migrations, naming the command to run', async () => {
    const r = await cli(['audit', 'verify']);
    assert.equal(r.code, 1);
    assert.match(r.err, /migrate up/);
  });

  it('sets roles, refuses to demote the last admin, and audit verify names a tampered entry', async () => {
    assert.equal((await cli(['migrate', 'up'])).code, 0);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(
        `insert into auth_users (id, email, email_normalized, display_name, role, password_hash, email_verified_at, password_changed_at, created_at)
         values (gen_random_uuid(), 'Ops@Label.test', 'ops@label.test', 'Ops', 'artist', 'x', now(), now(), now())`,
      );
      const promoted = await cli(['users', 'set-role', 'OPS@label.test', 'admin']);
      assert.equal(promoted.code, 0, promoted.err);
      const demoted = await cli(['users', 'set-role', 'ops@label.test', 'artist']);
      assert.equal(demoted.code, 1);
      assert.match(demoted.err, /only admin/);
      const { rows } = await client.query<{ role: string }>(`select role from auth_users where email_normalized = 'ops@label.test'`);
      assert.equal(rows[0]!.role, 'admin');

      assert.equal((await cli(['audit', 'verify'])).code, 0);
      await client.query('alter table audit_entries disable trigger audit_entries_no_update_delete');
      const { rows: tampered } = await client.query<{ id: string }>(`update audit_entries set reason = 'nothing to see' where seq = 1 returning id`);
      await client.query('alter table audit_entries enable trigger audit_entries_no_update_delete');
      const broken = await cli(['audit', 'verify']);
      assert.equal(broken.code, 1);
      assert.match(broken.err, new RegExp(`entry #1 \\(${tampered[0]!.id}\\)`));
    } finally {
      await client.end();
    }
  });

  it('keeps log lines out of a command\'s answer: stdout is for the operator, logs go to stderr', { timeout: 60_000 }, async () => {
    // A real process with info logs on: plugins log as they start (email, storage, rate limits).
    const run = await empulse(['check'], { DATABASE_URL: url, DATA_DIR: dataDir, LOG_LEVEL: 'info' });
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const out = run.stdout.split('\n').filter(Boolean);
    assert.ok(out.includes('config: ok'), run.stdout);
    assert.deepEqual(out.filter((l) => l.startsWith('{')), [], 'no JSON log line on stdout');
    const logLines = run.stderr.split('\n').filter((l) => l.startsWith('{'));
    assert.ok(logLines.some((l) => (JSON.parse(l) as { msg?: string }).msg === 'storage ready'), run.stderr);
  });

  it('stops quietly with exit 0 when its reader leaves early (`empulse plugins | head -1`)', { timeout: 60_000 }, async () => {
    const child = spawn(process.execPath, [projectPath('host/node.ts'), 'plugins'], {
      cwd: projectRoot,
      env: { ...process.env, DATABASE_URL: url, DATA_DIR: dataDir, LOG_LEVEL: 'silent' },
    });
    // Read the first line, then close the pipe, as `head -1` does; the rest of the answer hits EPIPE.
    let first = '';
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.stdout.on('data', (c: Buffer) => {
      first += c.toString();
      if (first.includes('\n')) child.stdout.destroy();
    });
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    assert.match(first, /^health@/);
    assert.equal(code, 0, stderr);
    assert.doesNotMatch(stderr, /EPIPE|Unhandled/);
  });

  it('"plugins" tells the truth: tables of plain-SQL stores, required apart from optional services, settings unredacted, --json', async () => {
    const text = await cli(['plugins']);
    assert.equal(text.code, 0, text.err);
    const section = (id: string) => {
      const lines = text.out.split('\n');
      const start = lines.findIndex((l) => l.startsWith(`${id}@`));
      const end = lines.findIndex((l, i) => i > start && /^\S/.test(l));
      return lines.slice(start, end < 0 ? undefined : end).join('\n');
    };
    assert.match(section('lockout'), /tables: {5}lockout_counters/);
    assert.match(section('w9-encryption'), /tables: {5}w9_encryption_forms/);
    assert.match(section('artists'), /requires: {3}auth, audit, email \(services it cannot run without\)/);
    assert.match(section('artists'), /optional: {3}openapi \(services it uses when provided\)/);
    assert.match(section('auth'), /"accessTokenTtlSeconds":900/);
    assert.doesNotMatch(section('auth'), /"accessTokenTtlSeconds":"\[redacted\]"/);

    const json = await cli(['plugins', '--json']);
    assert.equal(json.code, 0, json.err);
    const parsed = JSON.parse(json.out) as { kernel: string; plugins: { id: string; dependsOn: string[]; tables: string[]; optional: string[] }[] };
    const tracks = parsed.plugins.find((p) => p.id === 'tracks')!;
    assert.ok(tracks.dependsOn.includes('storage') && tracks.dependsOn.includes('artists'), JSON.stringify(tracks));
    assert.deepEqual(tracks.tables, ['tracks_submissions']);
    assert.equal((await cli(['plugins', '--yaml'])).code, 2);
  });

  it('lists plugin commands in help and in "plugins"', async () => {
    const help = await cli(['help']);
    assert.equal(help.code, 0);
    assert.match(help.out, /users set-role <email> <artist\|admin>/);
    assert.match(help.out, /audit verify/);
    const plugins = await cli(['plugins']);
    assert.match(plugins.out, /commands: {3}empulse users set-role/);
  });
});

describe('the kernel and plugin commands', () => {
  const logger = createLogger({ level: 'silent' });
  const run = { description: 'x', run: async () => 0 };
  const kernel = (...plugins: ReturnType<typeof definePlugin>[]) =>
    new Kernel({ config: { plugins }, env: {}, mode: 'test', logger, database: { driver: 'pglite' } });

  it('refuses a command two plugins claim, and one that takes a host command word, naming both', () => {
    const a = definePlugin({ id: 'alpha', version: '1.0.0', commands: { 'reports export': run } });
    const b = definePlugin({ id: 'beta', version: '1.0.0', commands: { 'reports export': run, 'migrate all': run } });
    assert.throws(
      () => kernel(a, b),
      (err: unknown) =>
        err instanceof BootError &&
        err.problems.some((p) => p.plugin === 'beta' && /plugin "alpha" already provides the command "reports export"/.test(p.message)) &&
        err.problems.some((p) => p.plugin === 'beta' && /"migrate" is one of the host's own commands/.test(p.message)),
    );
  });

  it('refuses a badly formed command name when the plugin is defined', () => {
    assert.throws(() => definePlugin({ id: 'gamma', version: '1.0.0', commands: { 'Reports  Export': run } }), /lower-case words/);
  });

  it('matches the longest command name and passes the rest as arguments', () => {
    const k = kernel(definePlugin({ id: 'delta', version: '1.0.0', commands: { reports: run, 'reports export': run } }));
    assert.deepEqual(
      (({ entry, args }) => [entry.name, args])(k.findCommand(['reports', 'export', 'csv'])!),
      ['reports export', ['csv']],
    );
    assert.deepEqual(
      (({ entry, args }) => [entry.name, args])(k.findCommand(['reports', 'x'])!),
      ['reports', ['x']],
    );
    assert.equal(k.findCommand(['nothing']), undefined);
  });
});
