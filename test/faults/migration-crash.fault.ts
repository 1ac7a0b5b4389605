/**
 * PostgreSQL killed (`pg_ctl stop -m immediate`: no shutdown, crash recovery on the next start)
 * while `empulse migrate up` runs a batch: the batch is one transaction, so nothing of it stays,
 * and the next run, once the server is back, applies every migration cleanly, each recorded once.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { empulse } from '../support/spawn-empulse.ts';
import { projectImport } from '../support/paths.ts';
import { startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres.ts';
import { until } from '../support/until.ts';
import { reportFault } from './fault-summary.ts';

// Email's and auth's migrations, then one that takes seconds (the window for the kill), then one after it.
const CONFIG = `import { defineConfig, definePlugin, Migration } from '${projectImport('core/index.ts')}';
import { authPlugin } from '${projectImport('plugins/auth/index.ts')}';
import { emailPlugin } from '${projectImport('plugins/email/index.ts')}';
class CreateItems extends Migration {
  override up(): void {
    this.addSql('create table slowmig_items (id integer primary key)');
    this.addSql('insert into slowmig_items select generate_series(1, 1000)');
    this.addSql('select pg_sleep(4)');
  }
  override down(): void { this.addSql('drop table slowmig_items'); }
}
class AddNote extends Migration {
  override up(): void { this.addSql('alter table slowmig_items add column note text'); }
  override down(): void { this.addSql('alter table slowmig_items drop column note'); }
}
const slowmig = definePlugin({
  id: 'slowmig',
  version: '1.0.0',
  tables: ['slowmig_items'],
  migrations: [{ name: 'slowmig/0001_items', class: CreateItems }, { name: 'slowmig/0002_note', class: AddNote }],
});
export default defineConfig({ plugins: [emailPlugin, authPlugin, slowmig] });
`;

describe('PostgreSQL killed during a migration run', () => {
  let pg: PrivatePostgres;
  let dir: string;

  before(async () => {
    pg = await startPrivatePostgres();
    pg.createDatabase('app');
    dir = await mkdtemp(join(tmpdir(), 'empulse-fault-migrate-'));
    await writeFile(join(dir, 'package.json'), '{ "type": "module" }\n');
    await writeFile(join(dir, 'empulse.config.ts'), CONFIG);
  });
  after(async () => {
    pg?.destroy();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('leaves nothing of the killed batch, and the next run finishes it cleanly', async () => {
    const env = { DATABASE_URL: pg.urlOf('app'), DATA_DIR: join(dir, '.empulse'), JWT_SECRET: 'migration-crash-secret-0123456789-abcdefghijklmnopqr', EMPULSE_CONFIG: join(dir, 'empulse.config.ts') };
    let firstDone: string | undefined;
    const first = empulse(['migrate', 'up'], env).then((run) => {
      firstDone = `exit ${run.code}: ${run.stderr}${run.stdout}`;
      return run;
    });
    await until('the slow migration to run', () => {
      if (firstDone !== undefined) throw new Error(`migrate up ended before the kill: ${firstDone}`);
      return pg.psql("select count(*) from pg_stat_activity where query like '%pg_sleep(4)%' and pid <> pg_backend_pid()", 'app').trim() === '1';
    }, 30_000);
    pg.stop('immediate');
    const killed = await first;
    assert.notEqual(killed.code, 0, 'the interrupted run fails');
    assert.doesNotMatch(killed.stdout + killed.stderr, /at .*\.ts:\d+:\d+/, 'an operator message, not a stack trace');

    pg.start(); // crash recovery
    // The ledger table itself may exist (made before the batch, under the same lock); no table of
    // the batch and no ledger row does.
    const tables = pg.psql("select string_agg(tablename, ',' order by tablename) from pg_tables where schemaname = 'public' and tablename <> 'empulse_migrations'", 'app').trim();
    assert.equal(tables, '', `nothing of the batch stayed: ${tables}`);
    const recorded = pg.psql("select count(*) from pg_tables where tablename = 'empulse_migrations'", 'app').trim() === '1' ? pg.psql('select count(*) from empulse_migrations', 'app').trim() : '0';
    assert.equal(recorded, '0', 'no migration of the killed batch is recorded');

    const second = await empulse(['migrate', 'up'], env);
    assert.equal(second.code, 0, second.stderr);
    const status = await empulse(['migrate', 'status'], env);
    assert.equal(status.code, 0, status.stderr);
    assert.doesNotMatch(status.stdout, /pending/i, status.stdout);
    assert.equal(pg.psql('select count(*) from slowmig_items', 'app').trim(), '1000');
    assert.equal(pg.psql("select count(*) from information_schema.columns where table_name = 'slowmig_items' and column_name = 'note'", 'app').trim(), '1');
    const ledger = pg.psql("select name, count(*) from empulse_migrations group by name having count(*) > 1", 'app').trim();
    assert.equal(ledger, '', `a migration recorded twice: ${ledger}`);
    reportFault({
      scenario: 'PostgreSQL killed during migrate up',
      injected: 'pg_ctl stop -m immediate while the batch ran (auth, then a 4 s migration), crash recovery, migrate up again',
      requests: 2,
      outcomes: { 'first run failed': 1, 'second run succeeded': 1 },
      losses: 0,
      notes: 'no table of the killed batch left; every migration applied once on the second run',
    });
  });
});
