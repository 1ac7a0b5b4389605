/**
 * The embedded database (PGlite), which a first run uses when there is no DATABASE_URL: the same
 * migrations run on it, readiness checks it, and a data directory keeps data and the migration
 * ledger across restarts. An in-memory PGlite serves tests. Each empty data directory takes
 * several seconds to initialise, so this file opens as few as it can: one directory (opened
 * twice) and one in-memory database.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as v from 'valibot';
import { definePlugin, Migration, type Kernel } from '../core/index.ts';
import { healthPlugin } from '../plugins/health/index.ts';
import { createScratchDatabase, createTestKernel, type TestKernel } from '../host/testing.ts';
import { createEmbeddedCluster } from '../host/embedded-cluster.ts';
import { kernelMigrations } from '../migrations/index.ts';
import { captureLogger } from './support/capture-logger.ts';

class JournalInit extends Migration {
  override up(): void {
    this.addSql('create table journal_entries (id serial primary key, body text not null)');
    this.addSql(`insert into journal_entries (body) values ('first run')`);
  }
  override down(): void {
    this.addSql('drop table journal_entries');
  }
}

const journal = definePlugin({
  id: 'journal',
  version: '1.0.0',
  migrations: [{ name: 'journal/0001_init', class: JournalInit }],
  routes(router) {
    router.post('/v1/journal', { body: v.strictObject({ body: v.string() }) }, async (ctx) => {
      await ctx.state.em.getConnection().execute('insert into journal_entries (body) values (?)', [ctx.state.body.body]);
      ctx.status = 201;
      ctx.body = { ok: true };
    });
    router.get('/v1/journal', async (ctx) => {
      const rows = (await ctx.state.em.getConnection().execute('select body from journal_entries order by id')) as { body: string }[];
      ctx.body = { items: rows.map((r) => r.body) };
    });
  },
});

const MIGRATIONS = [...kernelMigrations.map((m) => m.name), 'journal/0001_init'];

async function ledger(kernel: Kernel): Promise<string[]> {
  const rows = (await kernel.database.orm.em.getConnection().execute('select name from empulse_migrations order by id')) as { name: string }[];
  return rows.map((r) => r.name);
}

async function assertReady(t: TestKernel): Promise<void> {
  const res = await t.inject({ url: '/health/ready' });
  assert.equal(res.statusCode, 200, res.body);
  const body = res.json() as { status: string; checks: Record<string, { status: string; latencyMs: unknown }> };
  assert.equal(body.status, 'ok');
  assert.equal(body.checks.database?.status, 'ok');
  assert.equal(typeof body.checks.database?.latencyMs, 'number');
}

describe('embedded database in a data directory', () => {
  let root: string;
  let dataDir: string;
  const open: TestKernel[] = [];

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'empulse-pglite-'));
    dataDir = join(root, 'db');
  });
  after(async () => {
    for (const t of open) await t.close();
    await rm(root, { recursive: true, force: true });
  });

  it('boots, migrates, serves readiness with a database check and stores data', async () => {
    const logs = captureLogger('info');
    const t = await createTestKernel({ plugins: [healthPlugin, journal], database: { driver: 'pglite', dataDir }, logger: logs.logger });
    open.push(t);
    assert.equal(t.kernel.database.driver, 'pglite');
    assert.ok(existsSync(dataDir), 'the data directory is created');
    assert.deepEqual(logs.lines.find((l) => l.msg === 'migrations applied')?.migrations, MIGRATIONS);
    await assertReady(t);

    const posted = await t.inject({ method: 'POST', url: '/v1/journal', payload: { body: 'written over HTTP' } });
    assert.equal(posted.statusCode, 201, posted.body);
    const listed = await t.inject({ url: '/v1/journal' });
    assert.deepEqual(listed.json(), { items: ['first run', 'written over HTTP'] });
    assert.deepEqual(await ledger(t.kernel), MIGRATIONS);

    await t.close();
    assert.equal(t.kernel.state, 'stopped');
  });

  it('keeps data and the ledger when booted again on the same directory, applying nothing', async () => {
    const logs = captureLogger('info');
    const t = await createTestKernel({ plugins: [healthPlugin, journal], database: { driver: 'pglite', dataDir }, logger: logs.logger });
    open.push(t);
    assert.equal(logs.lines.filter((l) => l.msg === 'migrations applied').length, 0, 'no migration is applied again');
    assert.deepEqual(await ledger(t.kernel), MIGRATIONS, 'the ledger is kept, without duplicates');
    assert.deepEqual(await t.kernel.migrations().pending(), []);

    const listed = await t.inject({ url: '/v1/journal' });
    assert.equal(listed.statusCode, 200, listed.body);
    assert.deepEqual(listed.json(), { items: ['first run', 'written over HTTP'] }, 'the seed ran once and the data is kept');

    const plugins = (await t.kernel.database.orm.em.getConnection().execute('select id from empulse_plugins order by id')) as { id: string }[];
    assert.deepEqual(plugins.map((p) => p.id), ['health', 'journal']);
    await assertReady(t);
    await t.close();
  });
});

describe('embedded database in memory', () => {
  let t: TestKernel | undefined;
  after(() => t?.close());

  it("boots with database: 'pglite', migrates and serves readiness", async () => {
    t = await createTestKernel({ plugins: [healthPlugin, journal], database: 'pglite' });
    assert.deepEqual(t.database, { driver: 'pglite' });
    assert.equal(t.kernel.database.driver, 'pglite');
    assert.deepEqual(await ledger(t.kernel), MIGRATIONS);
    await assertReady(t);
    const posted = await t.inject({ method: 'POST', url: '/v1/journal', payload: { body: 'in memory' } });
    assert.equal(posted.statusCode, 201, posted.body);
    assert.deepEqual((await t.inject({ url: '/v1/journal' })).json(), { items: ['first run', 'in memory'] });
  });

  it('runs named statements with $n parameters through Database.query, as on PostgreSQL', async () => {
    const statement = { name: 'embedded_test_sum', text: 'select $1::int + $2::int as total, $3::text as label' };
    for (const [a, b] of [[1, 2], [40, 2]] as const) {
      const rows = await t!.kernel.database.query<{ total: number; label: string }>(statement, [a, b, 'sum']);
      assert.deepEqual(rows, [{ total: a + b, label: 'sum' }]);
    }
  });
});

describe('Database.query on PostgreSQL', () => {
  it('prepares a named statement once and reuses it; its rows are plain objects', async () => {
    const t = await createTestKernel({ plugins: [healthPlugin], database: 'postgresql' });
    try {
      // The statement looks itself up: named, it is a prepared statement of the session running it.
      const statement = {
        name: 'pg_test_sum',
        text: "select $1::int + $2::int as total, (select count(*)::int from pg_prepared_statements where name = 'pg_test_sum') as prepared",
      };
      for (let i = 0; i < 3; i++) assert.deepEqual(await t.kernel.database.query(statement, [i, 1]), [{ total: i + 1, prepared: 1 }]);
      // DATABASE_PREPARED_STATEMENTS=false (a pooler in transaction mode): sent unnamed, never prepared.
      const scratch = await createScratchDatabase();
      const unnamed = await createTestKernel({ plugins: [healthPlugin], database: { driver: 'postgresql', url: scratch.url, preparedStatements: false } });
      try {
        for (let i = 0; i < 2; i++) assert.deepEqual(await unnamed.kernel.database.query(statement, [i, 1]), [{ total: i + 1, prepared: 0 }]);
      } finally {
        await unnamed.close();
        await scratch.drop();
      }
    } finally {
      await t.close();
    }
  });
});

describe('the embedded cluster made out of process (first start)', () => {
  it('creates the cluster once in a child process, does nothing when it exists, and names the directory when it cannot', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'empulse-cluster-'));
    try {
      const db = join(dir, 'db');
      createEmbeddedCluster(db);
      assert.ok(existsSync(join(db, 'PG_VERSION')), 'initdb ran');
      const version = readFileSync(join(db, 'PG_VERSION'), 'utf8');
      createEmbeddedCluster(db); // exists: nothing to do
      assert.equal(readFileSync(join(db, 'PG_VERSION'), 'utf8'), version);
      // The server then opens it as an existing database.
      const t = await createTestKernel({ plugins: [healthPlugin, journal], database: { driver: 'pglite', dataDir: db } });
      await assertReady(t);
      await t.close();
      writeFileSync(join(dir, 'a-file'), 'not a directory');
      assert.throws(() => createEmbeddedCluster(join(dir, 'a-file', 'db')), /could not create the embedded database in .*a-file/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
