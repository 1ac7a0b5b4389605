/**
 * Migrations on real PostgreSQL: the kernel's own migration first, then each plugin's in
 * dependency order, all recorded in the `empulse_migrations` ledger; `empulse_plugins` keeps a row
 * per plugin ever enabled; enabling a plugin later migrates only its tables; disabling one never
 * drops its data; a failing batch leaves nothing behind; concurrent instances apply each
 * migration exactly once (advisory lock); `autoMigrate: false` refuses pending migrations.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import {
  BootError,
  createLogger,
  createServiceRef,
  definePlugin,
  Kernel,
  Migration,
  type Logger,
  type Plugin,
} from '../core/index.ts';
import { healthPlugin } from '../plugins/health/index.ts';
import { createScratchDatabase } from '../host/testing.ts';
import { kernelMigrations } from '../migrations/index.ts';
import { captureLogger } from './support/capture-logger.ts';
import { projectImport, projectPath } from './support/paths.ts';

// ---------------------------------------------------------------------------------------------
// Fixture plugins: alpha ← beta (beta requires alpha's service and has a foreign key to alpha's
// table, so its migrations only work after alpha's), delta (independent), gamma (second
// migration is broken).

const alphaRef = createServiceRef<{ readonly name: string }>('test.alpha');

class AlphaInit extends Migration {
  override up(): void {
    this.addSql('create table alpha_items (id serial primary key, name text not null)');
  }
  override down(): void {
    this.addSql('drop table alpha_items');
  }
}
class AlphaSeed extends Migration {
  override up(): void {
    this.addSql(`insert into alpha_items (name) values ('seeded')`);
  }
  override down(): void {
    this.addSql(`delete from alpha_items where name = 'seeded'`);
  }
}
const alpha = definePlugin({
  id: 'alpha',
  version: '1.0.0',
  provides: { alpha: alphaRef },
  init: () => ({ services: { alpha: { name: 'alpha' } } }),
  migrations: [
    { name: 'alpha/0001_init', class: AlphaInit },
    { name: 'alpha/0002_seed', class: AlphaSeed },
  ],
});

class BetaInit extends Migration {
  override up(): void {
    this.addSql('create table beta_notes (id serial primary key, alpha_id int references alpha_items (id), body text not null)');
  }
  override down(): void {
    this.addSql('drop table beta_notes');
  }
}
class BetaSeed extends Migration {
  override up(): void {
    this.addSql(`insert into beta_notes (alpha_id, body) select id, 'first note' from alpha_items where name = 'seeded'`);
  }
  override down(): void {
    this.addSql(`delete from beta_notes where body = 'first note'`);
  }
}
const beta = definePlugin({
  id: 'beta',
  version: '1.0.0',
  requires: { alpha: alphaRef },
  migrations: [
    { name: 'beta/0001_init', class: BetaInit },
    { name: 'beta/0002_seed', class: BetaSeed },
  ],
});

class DeltaInit extends Migration {
  override up(): void {
    this.addSql('create table delta_events (id serial primary key, what text not null)');
  }
  override down(): void {
    this.addSql('drop table delta_events');
  }
}
const delta = definePlugin({
  id: 'delta',
  version: '1.0.0',
  migrations: [{ name: 'delta/0001_init', class: DeltaInit }],
});

class GammaInit extends Migration {
  override up(): void {
    this.addSql('create table gamma_things (id serial primary key)');
  }
  override down(): void {
    this.addSql('drop table gamma_things');
  }
}
class GammaBroken extends Migration {
  override up(): void {
    this.addSql('create tabel gamma_oops (id int)');
  }
}
const gamma = definePlugin({
  id: 'gamma',
  version: '1.0.0',
  migrations: [
    { name: 'gamma/0001_init', class: GammaInit },
    { name: 'gamma/0002_broken', class: GammaBroken },
  ],
});

// ---------------------------------------------------------------------------------------------
// Helpers

/** The kernel's own migrations, which come before every plugin's. */
const KERNEL = kernelMigrations.map((m) => m.name);

const silent = createLogger({ level: 'silent' });
const scratches: { drop: () => Promise<void> }[] = [];
const kernels: Kernel[] = [];
const tempDirs: string[] = [];

after(async () => {
  for (const k of kernels) await k.stop().catch(() => undefined);
  for (const s of scratches) await s.drop();
  for (const d of tempDirs) await rm(d, { recursive: true, force: true });
});

async function scratchDatabase(): Promise<string> {
  const s = await createScratchDatabase();
  scratches.push(s);
  return s.url;
}

function kernelOn(
  url: string,
  plugins: readonly Plugin[],
  options: { autoMigrate?: boolean; logger?: Logger } = {},
): Kernel {
  const kernel = new Kernel({
    config: { plugins },
    env: {},
    mode: 'test',
    logger: options.logger ?? silent,
    database: { driver: 'postgresql', url, poolMax: 5 },
    ...(options.autoMigrate !== undefined && { autoMigrate: options.autoMigrate }),
  });
  kernels.push(kernel);
  return kernel;
}

/** Boots a kernel and stops it again (its work is done once migrations ran and plugins started). */
async function bootAndStop(url: string, plugins: readonly Plugin[], logger?: Logger): Promise<void> {
  const kernel = kernelOn(url, plugins, logger ? { logger } : {});
  await kernel.boot();
  assert.equal(kernel.state, 'running');
  await kernel.stop();
}

async function query<R extends Record<string, unknown>>(url: string, text: string, params: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(text, params)).rows;
  } finally {
    await client.end();
  }
}

interface LedgerRow extends Record<string, unknown> {
  id: number;
  name: string;
  executed_at: Date;
}
const ledger = (url: string) => query<LedgerRow>(url, 'select id, name, executed_at from empulse_migrations order by id');
const ledgerNames = async (url: string) => (await ledger(url)).map((r) => r.name);
const pluginRows = (url: string) =>
  query<{ id: string; version: string; installed_at: Date; last_booted_at: Date }>(
    url,
    'select id, version, installed_at, last_booted_at from empulse_plugins order by id',
  );
const tableExists = async (url: string, table: string) =>
  (await query<{ ok: boolean }>(url, 'select to_regclass($1) is not null as ok', [table]))[0]!.ok;
const count = async (url: string, sql: string) => Number((await query<{ n: string }>(url, sql))[0]!.n);

/** A temporary working directory holding `empulse.config.ts` (an ES module importing the core by path). */
async function configDir(config: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'empulse-migrate-'));
  tempDirs.push(dir);
  await writeFile(join(dir, 'package.json'), '{ "type": "module" }\n');
  await writeFile(join(dir, 'empulse.config.ts'), config);
  return dir;
}

/** Runs `node host/node.ts <args>` in `cwd`; kills it after `killAfterMs` (then `killed` is true). */
function runEmpulse(cwd: string, args: readonly string[], vars: Record<string, string>, killAfterMs = 60_000) {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'silent', NODE_ENV: 'test', ...vars };
  for (const k of ['PORT', 'HOST', 'DATA_DIR', 'EMPULSE_AUTO_MIGRATE', 'EMPULSE_CONFIG', 'NODE_TEST_CONTEXT']) {
    if (!(k in vars)) delete env[k];
  }
  if (!('DATABASE_POOL_MAX' in vars)) delete env.DATABASE_POOL_MAX;
  const child = spawn(process.execPath, [projectPath('host/node.ts'), ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let killed = false;
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const timer = setTimeout(() => {
    killed = true;
    child.kill('SIGKILL');
  }, killAfterMs);
  let done = false;
  const exited = new Promise<{ code: number | null; out: string; killed: boolean }>((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      done = true;
      resolve({ code, out, killed });
    }),
  );
  return { exited, isDone: () => done };
}

async function bootError(kernel: Kernel): Promise<Error> {
  try {
    await kernel.boot();
  } catch (err) {
    assert.ok(err instanceof Error);
    return err;
  }
  return assert.fail('expected the boot to fail');
}

// ---------------------------------------------------------------------------------------------

describe('migrations: one database through enabling, disabling and reverting plugins', () => {
  // The tests of this suite are steps of one story on one database, in order.
  let url: string;
  before(async () => {
    url = await scratchDatabase();
  });

  it('applies the kernel migration, then each plugin in dependency order, and records them', async () => {
    const logs = captureLogger('info');
    // beta is listed first but requires alpha: alpha's migrations must run first (beta's FK needs them).
    await bootAndStop(url, [beta, alpha], logs.logger);

    const rows = await ledger(url);
    assert.deepEqual(
      rows.map((r) => r.name),
      [...KERNEL, 'alpha/0001_init', 'alpha/0002_seed', 'beta/0001_init', 'beta/0002_seed'],
    );
    for (const r of rows) assert.ok(r.executed_at instanceof Date, `${r.name} has an executed_at`);
    assert.equal(await count(url, `select count(*) as n from beta_notes where body = 'first note' and alpha_id is not null`), 1);

    const applied = logs.lines.find((l) => l.msg === 'migrations applied');
    assert.deepEqual(applied?.migrations, rows.map((r) => r.name), 'the boot logs what it applied');

    const plugins = await pluginRows(url);
    assert.deepEqual(plugins.map((p) => p.id), ['alpha', 'beta'], 'one row per enabled plugin');
    for (const p of plugins) assert.equal(p.version, '1.0.0');
  });

  it('boots again without applying anything when nothing is pending', async () => {
    const before = await ledger(url);
    const logs = captureLogger('info');
    await bootAndStop(url, [alpha, beta], logs.logger);
    assert.deepEqual(await ledger(url), before);
    assert.equal(logs.lines.filter((l) => l.msg === 'migrations applied').length, 0);
    assert.equal(await count(url, 'select count(*) as n from alpha_items'), 1, 'seed migrations did not run twice');
  });

  it('applies only the migrations of a plugin enabled later', async () => {
    const before = await ledger(url);
    const pluginsBefore = await pluginRows(url);
    const logs = captureLogger('info');
    await bootAndStop(url, [alpha, beta, delta], logs.logger);

    const afterRows = await ledger(url);
    assert.deepEqual(afterRows.slice(0, before.length), before, 'earlier ledger rows are untouched');
    assert.deepEqual(afterRows.slice(before.length).map((r) => r.name), ['delta/0001_init']);
    assert.deepEqual(logs.lines.find((l) => l.msg === 'migrations applied')?.migrations, ['delta/0001_init']);
    assert.ok(await tableExists(url, 'delta_events'));

    const plugins = await pluginRows(url);
    assert.deepEqual(plugins.map((p) => p.id), ['alpha', 'beta', 'delta']);
    const alphaBefore = pluginsBefore.find((p) => p.id === 'alpha')!;
    const alphaNow = plugins.find((p) => p.id === 'alpha')!;
    assert.equal(alphaNow.installed_at.getTime(), alphaBefore.installed_at.getTime(), 'installed_at is kept');
    assert.ok(alphaNow.last_booted_at.getTime() >= alphaBefore.last_booted_at.getTime());

    // Data the plugin wrote while it ran (the next steps disable it).
    await query(url, `insert into delta_events (what) values ('kept after disabling')`);
  });

  it("keeps a disabled plugin's tables, data and ledger rows, and lists its migrations as orphaned", async () => {
    const before = await ledger(url);
    const kernel = kernelOn(url, [alpha, beta]);
    await kernel.boot();

    assert.ok(await tableExists(url, 'delta_events'), 'the table of the disabled plugin is kept');
    assert.deepEqual(await query(url, 'select what from delta_events'), [{ what: 'kept after disabling' }]);
    assert.deepEqual(await ledger(url), before, 'nothing is applied or removed');
    assert.deepEqual((await pluginRows(url)).map((p) => p.id), ['alpha', 'beta', 'delta'], 'its plugin row is kept');

    const status = await kernel.migrations().status();
    const byName = new Map(status.map((s) => [s.name, s]));
    assert.equal(status.length, before.length, 'every ledger row appears once');
    const orphan = byName.get('delta/0001_init');
    assert.ok(orphan, 'the disabled plugin’s migration is listed');
    assert.equal(orphan.orphaned, true);
    assert.equal(orphan.applied, true);
    assert.equal(orphan.owner, 'delta');
    assert.ok(orphan.appliedAt instanceof Date);
    for (const name of [...KERNEL, 'alpha/0001_init', 'alpha/0002_seed', 'beta/0001_init', 'beta/0002_seed']) {
      assert.equal(byName.get(name)?.applied, true, `${name} applied`);
      assert.equal(byName.get(name)?.orphaned, false, `${name} not orphaned`);
    }
    assert.equal(byName.get('alpha/0001_init')?.owner, 'alpha');
    for (const name of KERNEL) assert.equal(byName.get(name)?.owner, 'kernel');
    assert.deepEqual(await kernel.migrations().pending(), []);
    await kernel.stop();
  });

  it("down() reverts the last migration of an enabled plugin, never a disabled plugin's", async () => {
    // The last ledger row is delta's (disabled now); the last one of an enabled plugin is beta/0002_seed.
    assert.equal((await ledgerNames(url)).at(-1), 'delta/0001_init');
    const kernel = kernelOn(url, [alpha, beta]);
    await kernel.boot();
    const reverted = await kernel.migrations().down();
    assert.deepEqual(reverted, ['beta/0002_seed']);

    const names = await ledgerNames(url);
    assert.ok(!names.includes('beta/0002_seed'), 'its ledger row is removed');
    assert.ok(names.includes('delta/0001_init'), "the disabled plugin's row stays");
    assert.equal(await count(url, `select count(*) as n from beta_notes where body = 'first note'`), 0, 'its down() ran');
    assert.ok(await tableExists(url, 'delta_events'));
    assert.equal(await count(url, 'select count(*) as n from delta_events'), 1);

    const status = await kernel.migrations().status();
    assert.equal(status.find((s) => s.name === 'beta/0002_seed')?.applied, false);
    assert.deepEqual(await kernel.migrations().pending(), ['beta/0002_seed']);
    await kernel.stop();
  });

  it('fails the boot on a broken migration and leaves nothing of that batch behind', async () => {
    const before = await ledger(url);
    const pluginsBefore = (await pluginRows(url)).map((p) => p.id);
    // Pending batch: beta/0002_seed (reverted above), gamma/0001_init, gamma/0002_broken (bad SQL).
    const kernel = kernelOn(url, [alpha, beta, gamma]);
    const err = await bootError(kernel);
    assert.match(err.message, /tabel|syntax/i, 'the database error is reported');
    assert.notEqual(kernel.state, 'running');

    assert.equal(await tableExists(url, 'gamma_things'), false, "the first migration's table is rolled back");
    assert.deepEqual(await ledger(url), before, 'no ledger row of the batch is kept');
    assert.equal(await count(url, `select count(*) as n from beta_notes where body = 'first note'`), 0, 'the whole batch is rolled back');
    assert.deepEqual((await pluginRows(url)).map((p) => p.id), pluginsBefore, 'a plugin whose migrations failed is not recorded');
    await kernel.stop();

    // The database is not left half-migrated: without the broken plugin the next boot succeeds.
    await bootAndStop(url, [alpha, beta]);
    assert.equal((await ledgerNames(url)).at(-1), 'beta/0002_seed');
    assert.equal(await count(url, `select count(*) as n from beta_notes where body = 'first note'`), 1);
  });
});

describe('migrations: failures and settings', () => {
  it('names the failing migration in the boot error', async () => {
    const url = await scratchDatabase();
    const kernel = kernelOn(url, [gamma]);
    const err = await bootError(kernel);
    await kernel.stop();
    // An operator with a dozen plugins needs to know whose migration broke, not only the SQL error.
    assert.match(err.message, /gamma\/0002_broken/, `the error should name the migration: ${err.message}`);
  });

  it('a boot that fails on migrations leaves the kernel stopped and no database connection open', async () => {
    const url = await scratchDatabase();
    /** Connections to the scratch database other than the one asking. */
    const connections = () =>
      count(url, 'select count(*) as n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()');
    for (const [what, kernel] of [
      ['a broken migration', kernelOn(url, [gamma])],
      ['pending migrations with autoMigrate: false', kernelOn(url, [alpha], { autoMigrate: false })],
    ] as const) {
      await bootError(kernel);
      const state = kernel.state;
      const open = await connections();
      await kernel.stop();
      assert.equal(state, 'stopped', `after failing on ${what} the kernel should be stopped, like after a failed init`);
      assert.equal(open, 0, `after failing on ${what} the kernel still holds ${open} database connection(s)`);
    }
  });

  it('refuses pending migrations with autoMigrate: false, naming EMPULSE_AUTO_MIGRATE and "migrate up"', async () => {
    const url = await scratchDatabase();
    const refused = kernelOn(url, [healthPlugin, alpha], { autoMigrate: false });
    const err = await bootError(refused);
    await refused.stop();
    assert.ok(err instanceof BootError, `expected a BootError, got ${err.name}: ${err.message}`);
    assert.match(err.message, /EMPULSE_AUTO_MIGRATE/);
    assert.match(err.message, /migrate up/);
    assert.match(err.message, /alpha\/0001_init/, 'the pending migrations are named');
    assert.ok(err.problems.some((p) => p.path === 'EMPULSE_AUTO_MIGRATE'));
    assert.equal(await tableExists(url, 'alpha_items'), false, 'nothing was applied');
    assert.equal(await tableExists(url, 'empulse_plugins'), false);

    // Once migrated (by another boot or `migrate up`), autoMigrate: false boots...
    await bootAndStop(url, [healthPlugin, alpha]);
    const ok = kernelOn(url, [healthPlugin, alpha], { autoMigrate: false });
    await ok.boot();
    assert.equal(ok.state, 'running');
    await ok.stop();

    // ...until a newly enabled plugin brings pending migrations again.
    const again = kernelOn(url, [healthPlugin, alpha, delta], { autoMigrate: false });
    const err2 = await bootError(again);
    await again.stop();
    assert.match(err2.message, /EMPULSE_AUTO_MIGRATE/);
    assert.match(err2.message, /delta\/0001_init/);
    assert.ok(!(await ledgerNames(url)).includes('delta/0001_init'));
  });
});

describe('migrations: instances booting at the same time', () => {
  it('two kernels booting together on a fresh database apply every migration once and both run', async () => {
    const url = await scratchDatabase();
    const first = kernelOn(url, [healthPlugin, alpha, beta]);
    const second = kernelOn(url, [healthPlugin, alpha, beta]);
    await Promise.all([first.boot(), second.boot()]);
    assert.equal(first.state, 'running');
    assert.equal(second.state, 'running');

    const names = await ledgerNames(url);
    assert.deepEqual(names, [...KERNEL, 'alpha/0001_init', 'alpha/0002_seed', 'beta/0001_init', 'beta/0002_seed']);
    assert.equal(new Set(names).size, names.length, 'no duplicate ledger rows');
    assert.equal(await count(url, `select count(*) as n from alpha_items where name = 'seeded'`), 1, 'the seed ran once');
    assert.equal(await count(url, 'select count(*) as n from beta_notes'), 1);
    assert.deepEqual((await pluginRows(url)).map((p) => p.id), ['alpha', 'beta', 'health']);

    for (const k of [first, second]) {
      const report = await k.health.readiness();
      assert.equal(report.status, 'ok');
    }
    await Promise.all([first.stop(), second.stop()]);
  });

  it('two processes migrating at the same time wait for each other (advisory lock) and apply once', { timeout: 90_000 }, async () => {
    const url = await scratchDatabase();
    // The plugin's migration first waits for a lock the test holds, so the first process sits
    // inside its migration batch while the second one is started: both are provably concurrent.
    const GATE_KEY = 727272;
    const dir = await configDir(`import { defineConfig, definePlugin, Migration } from '${projectImport('core/index.ts')}';
class GateInit extends Migration {
  up() {
    this.addSql('select pg_advisory_xact_lock(${GATE_KEY})');
    this.addSql('create table gate_runs (id serial primary key, backend_pid int not null default pg_backend_pid())');
    this.addSql('insert into gate_runs default values');
  }
}
const gate = definePlugin({ id: 'gate', version: '1.0.0', migrations: [{ name: 'gate/0001_init', class: GateInit }] });
export default defineConfig({ plugins: [gate] });
`);

    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    try {
      await holder.query('select pg_advisory_lock($1)', [GATE_KEY]);
      const a = runEmpulse(dir, ['migrate', 'up'], { DATABASE_URL: url });
      const b = runEmpulse(dir, ['migrate', 'up'], { DATABASE_URL: url });

      // Wait until both processes wait on an advisory lock: one on the test's gate inside its
      // migration, the other on the kernel's migration lock.
      const deadline = Date.now() + 30_000;
      let waiting = 0;
      while (Date.now() < deadline && !a.isDone() && !b.isDone()) {
        const rows = await holder.query<{ n: number }>(
          `select count(*)::int as n from pg_locks l join pg_stat_activity s on s.pid = l.pid
            where l.locktype = 'advisory' and not l.granted and s.datname = current_database()`,
        );
        waiting = rows.rows[0]!.n;
        if (waiting >= 2) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await holder.query('select pg_advisory_unlock($1)', [GATE_KEY]);
      const [ra, rb] = await Promise.all([a.exited, b.exited]);
      assert.equal(waiting, 2, `both processes should have been migrating at once (outputs: ${ra.out} | ${rb.out})`);
      assert.equal(ra.code, 0, ra.out);
      assert.equal(rb.code, 0, rb.out);
      const outputs = [ra.out, rb.out];
      assert.equal(outputs.filter((o) => o.includes('applied gate/0001_init')).length, 1, outputs.join(' | '));
      assert.equal(outputs.filter((o) => o.includes('nothing to apply')).length, 1, outputs.join(' | '));
    } finally {
      await holder.end();
    }
    const names = await ledgerNames(url);
    assert.deepEqual(names, [...KERNEL, 'gate/0001_init']);
    assert.equal(await count(url, 'select count(*) as n from gate_runs'), 1, 'the migration ran once');
  });
});

describe('migrations: connection pool settings', () => {
  it('migrates with the smallest pool the settings allow, and rejects a smaller one by name', { timeout: 90_000 }, async () => {
    const url = await scratchDatabase();
    const dir = await configDir(`import { defineConfig, definePlugin, Migration } from '${projectImport('core/index.ts')}';
class SoloInit extends Migration {
  up() { this.addSql('create table solo_items (id serial primary key)'); }
  down() { this.addSql('drop table solo_items'); }
}
const solo = definePlugin({ id: 'solo', version: '1.0.0', migrations: [{ name: 'solo/0001_init', class: SoloInit }] });
export default defineConfig({ plugins: [solo] });
`);
    // A migration run holds one pooled connection for its lock: with a pool of one it would wait
    // forever for a second one, so DATABASE_POOL_MAX=1 must be refused up front...
    const tooSmall = await runEmpulse(dir, ['migrate', 'up'], { DATABASE_URL: url, DATABASE_POOL_MAX: '1' }, 30_000).exited;
    assert.equal(tooSmall.killed, false, `"migrate up" with DATABASE_POOL_MAX=1 hung: ${tooSmall.out}`);
    assert.equal(tooSmall.code, 1, tooSmall.out);
    assert.match(tooSmall.out, /DATABASE_POOL_MAX/);
    assert.equal(await tableExists(url, 'empulse_migrations'), false, 'nothing ran');

    // ...and the smallest accepted pool must be enough. Run in a child process: a migration run
    // stuck waiting for a connection would hold this file's in-process migration queue. It takes
    // a second or two; one that has not finished after 30 s is stuck.
    const minimal = await runEmpulse(dir, ['migrate', 'up'], { DATABASE_URL: url, DATABASE_POOL_MAX: '2' }, 30_000).exited;
    assert.equal(minimal.killed, false, `"migrate up" with DATABASE_POOL_MAX=2 never finished: ${minimal.out}`);
    assert.equal(minimal.code, 0, minimal.out);
    assert.match(minimal.out, /applied solo\/0001_init/);
    assert.deepEqual(await ledgerNames(url), [...KERNEL, 'solo/0001_init']);
  });
});
