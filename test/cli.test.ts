/**
 * The `empulse` command (host/cli.ts `runCli`), run in-process with captured output against a
 * temporary working directory holding the operator's `empulse.config.ts`: `plugins`, `migrate
 * status|up|down`, `check`, and clear, named errors (exit 1) for bad configs and settings; exit 2
 * for usage errors.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { spawnSync } from 'node:child_process';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import type { Env } from '../core/index.ts';
import { runCli } from '../host/cli.ts';
import { validateW9Config } from '../plugins/w9-encryption/config.ts';
import { createScratchDatabase } from '../host/testing.ts';
import { kernelMigrations } from '../migrations/index.ts';
import { projectImport, projectPath } from './support/paths.ts';

/** The kernel's own migrations, listed and applied before every plugin's. */
const KERNEL = kernelMigrations.map((m) => m.name);

const CORE = projectImport('core/index.ts');
const HEALTH = projectImport('plugins/health/index.ts');
const VALIBOT = projectImport('node_modules/valibot/dist/index.mjs');

/** The main config: health plus a `notes` plugin with a route and two migrations. */
const MAIN_CONFIG = `import { defineConfig, definePlugin, Migration } from '${CORE}';
import { healthPlugin } from '${HEALTH}';
class NotesInit extends Migration {
  up() { this.addSql('create table notes_items (id serial primary key, body text not null)'); }
  down() { this.addSql('drop table notes_items'); }
}
class NotesPinned extends Migration {
  up() { this.addSql('alter table notes_items add column pinned boolean not null default false'); }
  down() { this.addSql('alter table notes_items drop column pinned'); }
}
const notes = definePlugin({
  id: 'notes',
  version: '1.2.0',
  description: 'Short notes',
  migrations: [
    { name: 'notes/0001_init', class: NotesInit },
    { name: 'notes/0002_pinned', class: NotesPinned },
  ],
  routes(router) {
    router.get('/v1/notes', { summary: 'List notes' }, (ctx) => { ctx.body = { items: [], nextCursor: null }; });
  },
});
export default defineConfig({ plugins: [healthPlugin, notes] });
`;

/** Other configs, selected with EMPULSE_CONFIG (an imported module is cached, so one file each). */
const CONFIGS: Record<string, string> = {
  'typo.config.ts': `import * as v from '${VALIBOT}';
import { configure, defineConfig, definePlugin } from '${CORE}';
import { healthPlugin } from '${HEALTH}';
const greeter = definePlugin({
  id: 'greeter',
  version: '1.0.0',
  config: v.strictObject({ greeting: v.optional(v.string(), 'hello') }),
});
export default defineConfig({ plugins: [healthPlugin, configure(greeter, { greting: 'hi' })] });
`,
  'missing-service.config.ts': `import { createServiceRef, defineConfig, definePlugin } from '${CORE}';
import { healthPlugin } from '${HEALTH}';
const mailerRef = createServiceRef('mailer');
const newsletter = definePlugin({ id: 'newsletter', version: '1.0.0', requires: { mailer: mailerRef } });
export default defineConfig({ plugins: [healthPlugin, newsletter] });
`,
  'failing-check.config.ts': `import { defineConfig, definePlugin } from '${CORE}';
import { healthPlugin } from '${HEALTH}';
const payments = definePlugin({
  id: 'payments',
  version: '1.0.0',
  health: {
    'payments-api': async () => {
      throw new Error('connect ECONNREFUSED https://merchant:s3cr3t-key@payments.internal:8443');
    },
  },
});
export default defineConfig({ plugins: [healthPlugin, payments] });
`,
  'degraded-check.config.ts': `import { defineConfig, definePlugin } from '${CORE}';
import { healthPlugin } from '${HEALTH}';
const vault = definePlugin({
  id: 'vault',
  version: '1.0.0',
  health: { 'vault-keys': async () => ({ degraded: 'two records need a key the ring lacks' }) },
});
export default defineConfig({ plugins: [healthPlugin, vault] });
`,
};

interface CliResult {
  readonly code: number;
  readonly out: string[];
  readonly err: string[];
}

let dir: string;
let url: string;
let dropDb: () => Promise<void>;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'empulse-cli-'));
  await writeFile(join(dir, 'package.json'), '{ "type": "module" }\n');
  await writeFile(join(dir, 'empulse.config.ts'), MAIN_CONFIG);
  for (const [name, source] of Object.entries(CONFIGS)) await writeFile(join(dir, name), source);
  const scratch = await createScratchDatabase();
  url = scratch.url;
  dropDb = scratch.drop;
});

after(async () => {
  await dropDb?.();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function cli(args: readonly string[], env: Env = { DATABASE_URL: url }): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, {
    cwd: dir,
    env: { LOG_LEVEL: 'silent', ...env },
    out: (line) => out.push(...line.split('\n')),
    err: (line) => err.push(...line.split('\n')),
    onSignal: () => {},
  });
  return { code, out, err };
}

const show = (r: CliResult) => `exit ${r.code}\nout:\n${r.out.join('\n')}\nerr:\n${r.err.join('\n')}`;

async function columnExists(table: string, column: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query('select 1 from information_schema.columns where table_name = $1 and column_name = $2', [table, column]);
    return rows.length > 0;
  } finally {
    await client.end();
  }
}

/** `migrate status` lines as { state, name }. */
function statusLines(r: CliResult): Map<string, string> {
  const states = new Map<string, string>();
  for (const line of r.out) {
    const m = /^(applied \(plugin disabled\)|applied|pending)\s+(\S+)/.exec(line);
    if (m) states.set(m[2]!, m[1]!);
  }
  return states;
}

describe('empulse plugins', () => {
  it('lists every enabled plugin with its routes and migrations, without touching the database', async () => {
    // A database nobody listens on: listing plugins must not need one.
    const r = await cli(['plugins'], { DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/nowhere' });
    assert.equal(r.code, 0, show(r));
    const text = r.out.join('\n');
    assert.ok(r.out.some((l) => l.startsWith('health@0.1.0')), show(r));
    assert.ok(r.out.some((l) => /^\s+GET\s+\/health\/live\b/.test(l)), show(r));
    assert.ok(r.out.some((l) => /^\s+GET\s+\/health\/ready\b/.test(l)), show(r));
    assert.ok(r.out.some((l) => l.startsWith('notes@1.2.0')), show(r));
    assert.ok(r.out.some((l) => /^\s+GET\s+\/v1\/notes\s+List notes/.test(l)), show(r));
    assert.match(text, /notes\/0001_init, notes\/0002_pinned/);
    assert.deepEqual(r.err, []);
  });
});

describe('empulse migrate', () => {
  // Steps of one story on the scratch database, in order.
  it('status lists every migration as pending on a fresh database', async () => {
    const r = await cli(['migrate', 'status']);
    assert.equal(r.code, 0, show(r));
    const states = statusLines(r);
    assert.deepEqual([...states.keys()], [...KERNEL, 'notes/0001_init', 'notes/0002_pinned']);
    for (const [name, state] of states) assert.equal(state, 'pending', name);
  });

  it('up applies them in order and status then shows them applied', async () => {
    const up = await cli(['migrate', 'up']);
    assert.equal(up.code, 0, show(up));
    assert.deepEqual(up.out, [...KERNEL, 'notes/0001_init', 'notes/0002_pinned'].map((n) => `applied ${n}`));
    assert.ok(await columnExists('notes_items', 'pinned'));

    const status = await cli(['migrate', 'status']);
    assert.equal(status.code, 0, show(status));
    const states = statusLines(status);
    assert.equal(states.size, KERNEL.length + 2, show(status));
    for (const [name, state] of states) assert.equal(state, 'applied', name);
    assert.ok(status.out.every((l) => l === '' || /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}/.test(l)), 'each applied line shows when');

    const again = await cli(['migrate', 'up']);
    assert.equal(again.code, 0, show(again));
    assert.deepEqual(again.out, ['nothing to apply']);
  });

  it('down reverts the last migration', async () => {
    const down = await cli(['migrate', 'down']);
    assert.equal(down.code, 0, show(down));
    assert.deepEqual(down.out, ['reverted notes/0002_pinned']);
    assert.equal(await columnExists('notes_items', 'pinned'), false, "the migration's down() ran");
    assert.ok(await columnExists('notes_items', 'body'));

    const states = statusLines(await cli(['migrate', 'status']));
    assert.equal(states.get('notes/0002_pinned'), 'pending');
    assert.equal(states.get('notes/0001_init'), 'applied');

    const up = await cli(['migrate', 'up']);
    assert.deepEqual(up.out, ['applied notes/0002_pinned']);
  });

  it('down never reverts the kernel\'s own migrations, however many steps are asked', async () => {
    const down = await cli(['migrate', 'down', '10']);
    assert.equal(down.code, 0, show(down));
    assert.deepEqual(down.out, ['reverted notes/0002_pinned', 'reverted notes/0001_init']);
    const states = statusLines(await cli(['migrate', 'status']));
    for (const name of KERNEL) assert.equal(states.get(name), 'applied', `${name} stays: the kernel's ledger and keys`);
    assert.deepEqual((await cli(['migrate', 'up'])).out, ['applied notes/0001_init', 'applied notes/0002_pinned']);
  });

  it('down in production says what it would drop and needs --yes', async () => {
    const production = { DATABASE_URL: url, NODE_ENV: 'production' };
    const refused = await cli(['migrate', 'down'], production);
    assert.equal(refused.code, 1, show(refused));
    assert.ok(refused.err.some((l) => l.trim() === 'notes/0002_pinned'), show(refused));
    assert.ok(refused.err.some((l) => l.includes('run it again with --yes')), show(refused));
    assert.equal(await columnExists('notes_items', 'pinned'), true, 'nothing was reverted');
    const confirmed = await cli(['migrate', 'down', '--yes'], production);
    assert.equal(confirmed.code, 0, show(confirmed));
    assert.deepEqual(confirmed.out, ['reverted notes/0002_pinned']);
    assert.deepEqual((await cli(['migrate', 'up'])).out, ['applied notes/0002_pinned']);
  });

  it('rejects a bad step count or an unknown subcommand with exit 2', async () => {
    for (const args of [['migrate', 'down', '0'], ['migrate', 'down', 'two'], ['migrate', 'down', '1', '2'], ['migrate', 'sideways']]) {
      const r = await cli(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${show(r)}`);
      assert.ok(r.err.length > 0, 'says why');
    }
    assert.equal(await columnExists('notes_items', 'pinned'), true, 'nothing was reverted');
  });
});

describe('empulse check', () => {
  it('exits 0 and reports the config and the database as ok', async () => {
    const r = await cli(['check']);
    assert.equal(r.code, 0, show(r));
    assert.ok(r.out.includes('config: ok'), show(r));
    assert.ok(r.out.some((l) => /^database: ok\b/.test(l)), show(r));
    assert.ok(r.out.includes('migrations: up to date'), show(r));
    assert.deepEqual(r.err, []);
  });

  it('reports pending migrations on a fresh database without applying them', async () => {
    const scratch = await createScratchDatabase();
    try {
      const r = await cli(['check'], { DATABASE_URL: scratch.url });
      assert.equal(r.code, 0, show(r));
      assert.ok(r.out.some((l) => l.startsWith(`migrations: ${KERNEL.length + 2} pending`)), show(r));
      const client = new pg.Client({ connectionString: scratch.url });
      await client.connect();
      try {
        const { rows } = await client.query(`select to_regclass('notes_items') is not null as ok`);
        assert.equal(rows[0].ok, false, 'check applied nothing');
      } finally {
        await client.end();
      }
    } finally {
      await scratch.drop();
    }
  });

  it('exits 1 for a degraded check too, saying why: the service runs, but something needs the operator', async () => {
    const r = await cli(['check'], { DATABASE_URL: url, EMPULSE_CONFIG: 'degraded-check.config.ts' });
    assert.equal(r.code, 1, show(r));
    assert.ok(r.err.some((l) => l.startsWith('vault-keys: degraded (two records need a key the ring lacks)')), show(r));
  });

  it("exits 1 naming a dependency whose check fails, without the credentials in its error", async () => {
    const r = await cli(['check'], { DATABASE_URL: url, EMPULSE_CONFIG: 'failing-check.config.ts' });
    assert.equal(r.code, 1, show(r));
    assert.ok(r.err.some((l) => l.includes('payments-api') && l.includes('fail')), show(r));
    assert.ok(!show(r).includes('s3cr3t-key'), 'no credentials in the output');
  });

  it('exits 1 naming DATABASE_URL when the database is unreachable, without its password', async () => {
    const r = await cli(['check'], { DATABASE_URL: 'postgresql://postgres:hunter2pw@127.0.0.1:1/nowhere' });
    assert.equal(r.code, 1, show(r));
    assert.ok(r.err.some((l) => l.includes('DATABASE_URL')), show(r));
    assert.ok(!show(r).includes('hunter2pw'), 'no password in the output');
  });

  it('exits 1 for a misspelt database name, saying so, and creates no database', async () => {
    const name = `empulse_misspelt_${process.pid}`;
    const misspelt = new URL(url);
    misspelt.pathname = `/${name}`;
    for (const command of [['check'], ['migrate', 'up']]) {
      const r = await cli(command, { DATABASE_URL: misspelt.toString() });
      assert.equal(r.code, 1, show(r));
      assert.ok(r.err.some((l) => l.includes(`DATABASE_URL: database "${name}" does not exist: check the database name in DATABASE_URL`)), show(r));
    }
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query('select 1 from pg_database where datname = $1', [name]);
      assert.equal(rows.length, 0, 'no database was created under the misspelt name');
    } finally {
      await client.end();
    }
  });

  it('exits 1 for a role the server does not know, as a refused login rather than "unreachable"', async () => {
    const stranger = new URL(url);
    stranger.username = 'nobody_here';
    const r = await cli(['check'], { DATABASE_URL: stranger.toString() });
    assert.equal(r.code, 1, show(r));
    assert.ok(r.err.some((l) => l.includes('DATABASE_URL: the server refused the login (role "nobody_here" does not exist)')), show(r));
  });
});

describe('empulse configuration errors', () => {
  it('exits 1 naming the plugin and the option for a typo in a plugin option', async () => {
    const r = await cli(['check'], { DATABASE_URL: url, EMPULSE_CONFIG: 'typo.config.ts' });
    assert.equal(r.code, 1, show(r));
    assert.ok(r.err.some((l) => l.includes('greeter') && l.includes('greting')), show(r));
  });

  it('exits 1 naming a required service that no enabled plugin provides', async () => {
    const r = await cli(['check'], { DATABASE_URL: url, EMPULSE_CONFIG: 'missing-service.config.ts' });
    assert.equal(r.code, 1, show(r));
    assert.ok(r.err.some((l) => l.includes('newsletter') && l.includes('mailer')), show(r));
  });

  it('exits 1 naming DATABASE_URL in production without one', async () => {
    const r = await cli(['check'], { NODE_ENV: 'production' });
    assert.equal(r.code, 1, show(r));
    assert.ok(r.err.some((l) => l.includes('DATABASE_URL')), show(r));
    assert.equal(existsSync(join(dir, '.empulse', 'db')), false, 'no embedded database was created');
  });

  it('exits 1 naming PORT for a bad port value', async () => {
    for (const port of ['eighty', '70000', '-1']) {
      const r = await cli(['check'], { DATABASE_URL: url, PORT: port });
      assert.equal(r.code, 1, `PORT=${port}: ${show(r)}`);
      assert.ok(r.err.some((l) => l.includes('PORT') && l.includes(port)), show(r));
    }
  });

  it('refuses a port in use before booting anything, naming PORT and the address', async () => {
    const taken = createNetServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as AddressInfo).port;
    const fresh = await createScratchDatabase();
    try {
      const r = await cli(['start'], { DATABASE_URL: fresh.url, PORT: String(port), HOST: '127.0.0.1' });
      assert.equal(r.code, 1, show(r));
      assert.ok(r.err.some((l) => l.includes(`PORT: 127.0.0.1:${port} is already in use`)), show(r));
      const client = new pg.Client({ connectionString: fresh.url });
      await client.connect();
      try {
        const { rows } = await client.query(`select to_regclass('empulse_migrations') is null as untouched`);
        assert.equal(rows[0].untouched, true, 'refused before the boot: no migration ran');
      } finally {
        await client.end();
      }
    } finally {
      await new Promise((resolve) => taken.close(resolve));
      await fresh.drop();
    }
  });

  it('refuses a HOST that is not an address of this machine, naming HOST', async () => {
    const r = await cli(['start'], { DATABASE_URL: url, PORT: '0', HOST: '192.0.2.1' });
    assert.equal(r.code, 1, show(r));
    assert.ok(r.err.some((l) => l.includes('HOST: cannot listen on 192.0.2.1:0')), show(r));
  });

  it('names DATA_DIR when the embedded database cannot have its directory', async () => {
    const file = join(dir, 'a-file-not-a-directory');
    await writeFile(file, 'x');
    const key = Buffer.alloc(32, 7).toString('base64');
    const secrets = { JWT_SECRET: 'cli-test-secret-0123456789-abcdefghijklmnopqrstuvwxyz', STORAGE_SIGNING_KEY: 'cli-test-signing-key-0123456789-abcdefghij', W9_ENCRYPTION_KEYS: `k1:${key}`, W9_INDEX_KEY: key };
    const r = await cli(['start'], { DATA_DIR: join(file, 'data'), PORT: '0', ...secrets });
    assert.equal(r.code, 1, show(r));
    assert.ok(r.err.some((l) => l.includes(`DATA_DIR: cannot create ${join(file, 'data')} (ENOTDIR): point DATA_DIR at a writable directory`)), show(r));
  });

  it('names the file, the line and the place of a syntax error in the config', async () => {
    const broken = await mkdtemp(join(tmpdir(), 'empulse-broken-config-'));
    try {
      await writeFile(join(broken, 'package.json'), '{ "type": "module" }\n');
      await writeFile(join(broken, 'empulse.config.ts'), `import { defineConfig } from '${CORE}';\nexport default defineConfig({ plugins: [ , ] ) ;\n`);
      // As an operator runs it: Node's own TypeScript support, no test loader.
      const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'silent', DATABASE_URL: url };
      delete env.NODE_OPTIONS;
      const run = spawnSync(process.execPath, [projectPath('host/node.ts'), 'check'], { cwd: broken, env, encoding: 'utf8' });
      assert.equal(run.status, 1, run.stderr);
      const file = join(broken, 'empulse.config.ts');
      assert.ok(run.stderr.includes(`${file}: syntax error at line 2: Expected ',', got ')'`), run.stderr);
      assert.match(run.stderr, /export default defineConfig\(\{ plugins: \[ , \] \) ;\n\s+\^/);
    } finally {
      await rm(broken, { recursive: true, force: true });
    }
  });

  it('reports every problem at once: a bad PORT and a typo in one run', async () => {
    const r = await cli(['check'], { DATABASE_URL: url, PORT: 'eighty', EMPULSE_CONFIG: 'typo.config.ts' });
    assert.equal(r.code, 1, show(r));
    assert.ok(r.err.some((l) => l.includes('PORT')), show(r));
    assert.ok(r.err.some((l) => l.includes('greting')), show(r));
  });
});

describe('empulse usage', () => {
  it('exits 2 for an unknown command, naming it and printing the usage', async () => {
    const r = await cli(['frobnicate']);
    assert.equal(r.code, 2, show(r));
    assert.ok(r.err.some((l) => l.includes('frobnicate')), show(r));
    assert.ok(r.err.some((l) => l.includes('migrate up')), 'the usage lists the commands');
  });

  it('prints the usage for help with exit 0', async () => {
    const r = await cli(['help']);
    assert.equal(r.code, 0, show(r));
    assert.ok(r.out.some((l) => l.startsWith('usage: empulse')), show(r));
  });

  it('secrets prints fresh values for every secret an operator sets, in the formats the plugins parse', async () => {
    const first = await cli(['secrets'], {});
    assert.equal(first.code, 0, show(first));
    const values = new Map(first.out.filter((l) => /^[A-Z0-9_]+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    assert.deepEqual([...values.keys()].sort(), ['EMAIL_OUTBOX_KEY', 'JWT_SECRET', 'METRICS_TOKEN', 'POSTGRES_PASSWORD', 'STORAGE_SIGNING_KEY', 'W9_ENCRYPTION_KEYS', 'W9_INDEX_KEY']);
    assert.ok(first.out[0]!.startsWith('# made by `npx empulse secrets`'));
    // What production checks: the W-9 plugin parses its keys, the others are long enough.
    assert.deepEqual(validateW9Config({ encryptionKeys: values.get('W9_ENCRYPTION_KEYS'), indexKey: values.get('W9_INDEX_KEY'), rotationBatchSize: 200 }, 'production'), []);
    assert.ok(values.get('JWT_SECRET')!.length >= 64 && values.get('STORAGE_SIGNING_KEY')!.length >= 43);
    const second = await cli(['secrets'], {});
    assert.notEqual(second.out.join('\n'), first.out.join('\n'), 'new values each time');
    assert.equal((await cli(['secrets', '--force'], {})).code, 2);
  });

  it('prints the usage, and starts nothing, when no command is given', async () => {
    const r = await cli([]);
    assert.equal(r.code, 0, show(r));
    assert.ok(r.out.some((l) => l.startsWith('usage: empulse')), show(r));
  });
});
