/**
 * `pluginConformance(plugin, options)`: the suite every plugin passes, built-in or third-party
 * (ARCHITECTURE.md, "Testing"). It declares node:test tests, inside a `describe` of its own, that
 * check for that one plugin:
 *
 * - `kernel.describe()` works without a database;
 * - its migrations go up, down and up again cleanly, and `down` leaves none of its tables;
 * - the schema MikroORM derives from its entities is what its migrations create (empty diff);
 * - its tables (`<id>_…`, `-` as `_`) and migrations (`<id>/…`) carry its id, its routes lie
 *   under its declared prefixes;
 * - it boots with only the given dependencies;
 * - two kernels with it run side by side in one process (two databases) and share nothing;
 * - it stops within its declared stop timeout.
 *
 * Each suite uses two scratch PostgreSQL databases (created before, dropped after): the first
 * for the migration and schema checks and then the first kernel, the second for the other kernel.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import {
  createLogger,
  Kernel,
  type ConfiguredPlugin,
  type Env,
  type Logger,
  type OptionsOf,
  type Plugin,
} from '../core/index.ts';
import { createScratchDatabase, createTestKernel, type ServiceFake, type TestKernel } from './testing.ts';

export interface ConformanceOptions<P extends Plugin = Plugin> {
  /**
   * What the plugin needs to boot and nothing more: the plugins providing the services it
   * requires (with their own dependencies, and options as `configure(plugin, options)`), and
   * fakes made with `fake(ref, impl)`. Each one must provide something the plugin or another
   * dependency uses.
   */
  readonly dependencies?: readonly (Plugin | ConfiguredPlugin | ServiceFake)[];
  /** The plugin's options, as `configure(plugin, options)` takes them. */
  readonly config?: OptionsOf<P>;
  /** The environment every kernel of the suite sees (e.g. `{ JWT_SECRET }`). */
  readonly env?: Env;
  /**
   * Added to the plugin's stop timeout (`timeouts.stop`, default 5000 ms) for the rest of a
   * kernel's shutdown (its dependencies' stops, closing the database). Default 2000 ms.
   */
  readonly stopMarginMs?: number;
}

/** The kernel's default stop timeout, which a plugin without `timeouts.stop` gets. */
const DEFAULT_STOP_TIMEOUT_MS = 5_000;
/** Stands in for every path parameter when a route is requested. */
const PARAM_PLACEHOLDER = '00000000-0000-4000-8000-000000000000';

/** Declares the conformance tests of `plugin` (call it at the top level of a test file). */
export function pluginConformance<P extends Plugin>(plugin: P, options: ConformanceOptions<P> = {}): void {
  const env = options.env ?? {};
  const fakes = (options.dependencies ?? []).filter(isFake);
  const dependencies = (options.dependencies ?? []).filter((d): d is Plugin | ConfiguredPlugin => !isFake(d));
  const self: Plugin | ConfiguredPlugin = options.config === undefined ? plugin : { plugin, options: options.config };
  const stopBudgetMs = (plugin.timeouts.stop ?? DEFAULT_STOP_TIMEOUT_MS) + (options.stopMarginMs ?? 2_000);
  const tablePrefix = `${plugin.id.replace(/-/g, '_')}_`;
  const ownMigrations = plugin.migrations.map((m) => m.name);

  describe(`plugin "${plugin.id}" conformance`, () => {
    const logs = captureLogs();
    let dbA: Scratch | undefined;
    let dbB: Scratch | undefined;
    let a: TestKernel | undefined;
    let b: TestKernel | undefined;

    /** A kernel of the dependencies alone (`withPlugin` false) or with the plugin, not booted. */
    const kernel = (url: string, withPlugin: boolean): Kernel =>
      new Kernel({
        config: { plugins: withPlugin ? [...dependencies, self] : dependencies },
        env,
        mode: 'test',
        logger: logs.logger,
        database: { driver: 'postgresql', url, poolMax: 4 },
        services: fakes,
      });
    const boot = (scratch: Scratch): Promise<TestKernel> =>
      createTestKernel({
        plugins: [...dependencies, self],
        services: fakes,
        env,
        logger: logs.logger,
        database: { driver: 'postgresql', url: scratch.url, poolMax: 4 },
      });

    // Run once on the first database, shared by the migration and naming checks: the kernel's and
    // the dependencies' migrations first, then the plugin's up, down and up again.
    let migration: Promise<MigrationProbe> | undefined;
    const probe = () =>
      (migration ??= (async () => {
        const base = kernel(dbA!.url, false);
        try {
          await base.prepare();
          await base.migrations().up();
        } finally {
          await base.stop();
        }
        const full = kernel(dbA!.url, true);
        try {
          await full.prepare();
          const runner = full.migrations();
          const before = await tables(full);
          const up = await runner.up();
          const afterUp = await tables(full);
          // A plugin without migrations skips down: the runner's `down(0)` would revert them all.
          const down = ownMigrations.length > 0 ? await runner.down(ownMigrations.length) : [];
          const afterDown = await tables(full);
          const again = await runner.up();
          const afterAgain = await tables(full);
          return { before, up, afterUp, down, afterDown, again, afterAgain };
        } finally {
          await full.stop();
        }
      })());

    before(async () => {
      dbA = await createScratchDatabase();
      dbB = await createScratchDatabase();
    });
    after(async () => {
      await a?.close();
      await b?.close();
      await dbA?.drop();
      await dbB?.drop();
    });

    it('describes itself without a database', () => {
      const k = kernel('postgresql://conformance@127.0.0.1:1/never_opened', true);
      const described = k.describe().find((d) => d.id === plugin.id);
      assert.ok(described, 'kernel.describe() lists the plugin');
      assert.equal(k.state, 'created');
      assert.throws(() => k.database, /not opened/);
      assert.deepEqual(described.migrations, ownMigrations);
      assert.deepEqual(described.provides, Object.values(plugin.provides).map((r) => r.id));
      assert.deepEqual(described.healthChecks, Object.keys(plugin.health));
    });

    it('migrates up, down and up again cleanly; down leaves none of its tables', async () => {
      const p = await probe();
      assert.deepEqual(p.up, ownMigrations, 'the first up applies exactly its migrations, in order');
      assert.deepEqual(p.down, [...ownMigrations].reverse(), 'down reverts exactly its migrations, last first');
      const left = difference(p.afterDown, p.before);
      assert.deepEqual(left, [], `tables left behind after down: ${left.join(', ')}`);
      assert.deepEqual(difference(p.before, p.afterDown), [], 'down dropped tables that are not its own');
      assert.deepEqual(p.again, ownMigrations, 'up after down applies its migrations again');
      assert.deepEqual(p.afterAgain, p.afterUp, 'up after down creates the same tables');
    });

    it('prefixes its tables and migrations with its id, and keeps its routes under its prefixes', async () => {
      const p = await probe();
      const created = difference(p.afterUp, p.before);
      const badTables = created.filter((t) => !t.startsWith(tablePrefix));
      assert.deepEqual(badTables, [], `tables created by its migrations must start with "${tablePrefix}"`);
      const described = kernel('postgresql://conformance@127.0.0.1:1/never_opened', true).describe().find((d) => d.id === plugin.id)!;
      const badEntities = described.tables.filter((t) => !t.startsWith(tablePrefix));
      assert.deepEqual(badEntities, [], `entity tables must start with "${tablePrefix}"`);
      // What `empulse plugins` says it owns is what its migrations create: entity tables plus
      // the ones it declares in `tables` (plain-SQL stores).
      assert.deepEqual([...described.tables].sort(), [...created].sort(), 'its entities and `tables` must name exactly the tables its migrations create');
      const badMigrations = ownMigrations.filter((name) => !name.startsWith(`${plugin.id}/`));
      assert.deepEqual(badMigrations, [], `migration names must start with "${plugin.id}/"`);
      const outside = described.routes
        .filter((r) => !plugin.prefixes.some((prefix) => r.path === prefix || r.path.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`)))
        .map((r) => `${r.method} ${r.path}`);
      assert.deepEqual(outside, [], `routes outside its prefixes (${plugin.prefixes.join(', ')})`);
    });

    // Declared only for plugins with entities: the others have no derived schema to compare.
    if (plugin.entities.length > 0) it('derives from its entities the schema its migrations create (empty schema diff)', async () => {
      await probe();
      const diff = await schemaDiff(dbA!.url, kernel(dbA!.url, true), plugin);
      assert.equal(diff, '', `MikroORM would change the migrated schema to match ${plugin.id}'s entities:\n${diff}`);
    });

    it('boots with only the given dependencies', async () => {
      checkDependencies(plugin, dependencies, fakes);
      a = await boot(dbA!);
      assert.deepEqual(
        a.kernel.plan.plugins.map((p) => p.plugin.id).sort(),
        [...dependencies, self].map((d) => ('kind' in d ? d : d.plugin).id).sort(),
      );
      const ready = await a.kernel.health.readiness();
      assert.notEqual(ready.status, 'fail', `readiness: ${JSON.stringify(ready)}`);
    });

    it('runs in two kernels side by side (two databases, nothing shared); stopping one leaves the other working', async () => {
      a ??= await boot(dbA!);
      b = await boot(dbB!);
      const [nameA, nameB] = [await currentDatabase(a), await currentDatabase(b)];
      assert.notEqual(nameA, nameB);
      for (const ref of Object.values(plugin.provides)) {
        assert.notEqual(a.service(ref), b.service(ref), `service "${ref.id}" is one object in both kernels`);
      }
      const answersA = await requestRoutes(a, plugin);
      const answersB = await requestRoutes(b, plugin);
      assert.deepEqual(answersA.filter(isServerError), [], 'no route answers 5xx');
      assert.deepEqual(answersB, answersA, 'both kernels answer alike');
      for (const k of [a, b]) {
        const ready = await k.kernel.health.readiness();
        assert.notEqual(ready.status, 'fail', `readiness: ${JSON.stringify(ready)}`);
      }
      const stopping = a;
      a = undefined;
      await stopping.close();
      // Not compared with the first answers: the first round may have changed what a route says.
      assert.deepEqual((await requestRoutes(b, plugin)).filter(isServerError), [], 'the other kernel still answers without 5xx');
      const ready = await b.kernel.health.readiness();
      assert.notEqual(ready.status, 'fail', `readiness after the other kernel stopped: ${JSON.stringify(ready)}`);
      assert.equal(await currentDatabase(b), nameB);
    });

    it(`stops within its stop timeout (${plugin.timeouts.stop ?? DEFAULT_STOP_TIMEOUT_MS} ms)`, async () => {
      const k = b ?? (await boot(dbB!));
      b = undefined;
      await requestRoutes(k, plugin);
      const from = logs.lines.length;
      const started = performance.now();
      await k.close();
      const elapsed = performance.now() - started;
      // The kernel cuts a stop short at its timeout and logs it: that is a failure too.
      const failed = logs.lines.slice(from).filter((l) => l.plugin === plugin.id && l.msg === 'plugin stop failed');
      assert.deepEqual(failed, [], 'its stop (or an onStop clean-up) failed or timed out');
      assert.ok(elapsed <= stopBudgetMs, `kernel.stop() took ${Math.round(elapsed)} ms, over ${stopBudgetMs} ms`);
    });
  });
}

interface Scratch {
  readonly url: string;
  readonly drop: () => Promise<void>;
}

interface MigrationProbe {
  readonly before: readonly string[];
  readonly up: readonly string[];
  readonly afterUp: readonly string[];
  readonly down: readonly string[];
  readonly afterDown: readonly string[];
  readonly again: readonly string[];
  readonly afterAgain: readonly string[];
}

function isFake(d: Plugin | ConfiguredPlugin | ServiceFake): d is ServiceFake {
  return Array.isArray(d);
}

/** Every dependency provides something the plugin or another dependency uses ("nothing else"). */
function checkDependencies(plugin: Plugin, dependencies: readonly (Plugin | ConfiguredPlugin)[], fakes: readonly ServiceFake[]): void {
  const plugins = dependencies.map((d) => ('kind' in d ? d : d.plugin));
  const used = (except: Plugin) =>
    new Set(
      [plugin, ...plugins]
        .filter((p) => p !== except)
        .flatMap((p) => [...Object.values(p.requires), ...Object.values(p.optional)])
        .map((ref) => ref.id),
    );
  const unneeded = plugins.filter((d) => !Object.values(d.provides).some((ref) => used(d).has(ref.id))).map((d) => `plugin "${d.id}"`);
  const all = used(plugin);
  for (const ref of Object.values(plugin.requires)) all.add(ref.id);
  for (const ref of Object.values(plugin.optional)) all.add(ref.id);
  const unusedFakes = fakes.map(([ref]) => ref).filter((ref) => !all.has(ref.id)).map((ref) => `fake of "${ref.id}"`);
  assert.deepEqual([...unneeded, ...unusedFakes], [], 'dependencies that nothing in the kernel uses');
}

/** The kernel's (and its plugins') tables in the current schema, sorted. */
async function tables(kernel: Kernel): Promise<string[]> {
  const rows = (await kernel.database.orm.em
    .getConnection()
    .execute(`select table_name from information_schema.tables where table_schema = current_schema() order by table_name`)) as { table_name: string }[];
  return rows.map((r) => r.table_name);
}

async function currentDatabase(t: TestKernel): Promise<string> {
  const row = (await t.kernel.database.orm.em.getConnection().execute('select current_database() as name', [], 'get')) as { name: string };
  return row.name;
}

function difference(from: readonly string[], minus: readonly string[]): string[] {
  const drop = new Set(minus);
  return from.filter((x) => !drop.has(x));
}

/**
 * What MikroORM's schema generator would change in the migrated database to match the plugin's
 * entities, restricted to their tables (every other table is skipped, the kernel's and the
 * dependencies' alike; tables a plugin reaches by raw SQL without an entity are not compared).
 * The ORM is opened with every entity of the kernel, so relations across plugins resolve.
 */
async function schemaDiff(url: string, planned: Kernel, plugin: Plugin): Promise<string> {
  const own = new Set(planned.describe().find((d) => d.id === plugin.id)!.tables);
  const { MikroORM } = await import('@mikro-orm/postgresql');
  const orm = await MikroORM.init({
    clientUrl: url,
    entities: planned.plan.plugins.flatMap((p) => [...p.plugin.entities]),
    discovery: { warnWhenNoEntities: false },
    pool: { min: 0, max: 2 },
    debug: false,
  });
  try {
    const rows = (await orm.em.getConnection().execute(
      `select table_name from information_schema.tables where table_schema = current_schema()`,
    )) as { table_name: string }[];
    const others = rows.map((r) => r.table_name).filter((name) => !own.has(name));
    const generator = orm.config.get('schemaGenerator');
    generator.skipTables = [...(generator.skipTables ?? []), ...others];
    return (await orm.schema.getUpdateSchemaSQL({ wrap: false })).trim();
  } finally {
    await orm.close(true);
  }
}

/**
 * Sends one request to each of the plugin's routes (path parameters filled in, `{}` as the body
 * of writes) and returns `METHOD path → status` lines: a conformance check knows nothing of what
 * a route does, only that it answers, the same way in every kernel, without a server error.
 */
async function requestRoutes(t: TestKernel, plugin: Plugin): Promise<string[]> {
  const answers: string[] = [];
  for (const route of t.kernel.routes.filter((r) => r.plugin === plugin.id)) {
    const url = route.path.replace(/[{}]/g, '').replace(/[:*][A-Za-z0-9_]+/g, PARAM_PLACEHOLDER);
    const res = await t.inject({
      method: route.method,
      url,
      ...(route.method !== 'GET' && route.method !== 'DELETE' && { payload: {} }),
    });
    answers.push(`${route.method} ${route.path} → ${res.statusCode}`);
  }
  return answers;
}

function isServerError(answer: string): boolean {
  return /→ 5\d\d$/.test(answer);
}

interface CapturedLogs {
  readonly logger: Logger;
  readonly lines: readonly Record<string, unknown>[];
}

/** Warnings and errors of the suite's kernels, kept in memory (a timed-out stop is logged, not thrown). */
function captureLogs(): CapturedLogs {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      callback();
    },
  });
  return { logger: createLogger({ level: 'warn', destination }), lines };
}
