/**
 * The kernel: plans the boot (options, dependency graph), opens the database, applies pending
 * migrations, initialises plugins in dependency order, mounts their routes, starts them, and at
 * shutdown drains and stops them in reverse order. The parts each have a file of their own:
 * `plan.ts` (options and order), `service-registry.ts`, `plugin-context.ts` (one plugin's place),
 * `route-table.ts`, `lifecycle-runner.ts` and the plugin ledger beside the kernel's migrations.
 */
import type Koa from 'koa';
import type { EmpulseConfig, HttpSettings } from '../config/define-config.ts';
import { coreServices, type HttpService, type LifecycleService, type OutageService, type ResponseObserver, type RouteCatalog } from '../core-services.ts';
import type { DatabaseConfig } from '../database/database.ts';
import { MigrationError, MigrationRunner } from '../database/migration-runner.ts';
import type { MigrationEntry } from '../database/migration-entry.ts';
import { openDatabase, type OpenedDatabase } from '../database/open-database.ts';
import { HealthRegistry } from '../health/health-registry.ts';
import { createHttpApp } from '../http/create-app.ts';
import { outageOf, type PeerNames } from '../outage/dependency-unavailable.ts';
import { OutageLog } from '../outage/outage-log.ts';
import type { HttpContext } from '../http/context.ts';
import type { RouteDefinition, RouteGuard } from '../http/plugin-router.ts';
import type { LazyRequestState } from '../http/request-state.ts';
import { extendRedaction } from '../logging/create-logger.ts';
import type { Logger } from '../logging/logger.ts';
import { HookBus } from '../plugin/hook-bus.ts';
import { ExtensionPoint } from '../plugin/extension-point.ts';
import type { Env, RuntimeMode } from '../plugin/define-plugin.ts';
import { kernelMigrations } from '../../migrations/index.ts';
import { recordPlugins } from '../../migrations/plugin-ledger.ts';
import { BootError } from './boot-error.ts';
import { DEFAULT_TIMEOUTS, LifecycleRunner } from './lifecycle-runner.ts';
import { planKernel, type KernelPlan } from './plan.ts';
import { PluginSlot } from './plugin-context.ts';
import { collectRoutes } from './route-table.ts';
import { ServiceRegistry } from './service-registry.ts';
import { redactConfig } from './validate-config.ts';
import { KERNEL_VERSION } from './version.ts';
import { withTimeout } from './with-timeout.ts';
import { matchCommand, type CommandEntry } from './command-table.ts';
import type { CommandIo } from '../plugin/define-plugin.ts';
import { loadOrCreateKey } from '../database/kernel-keys.ts';
import { createCursorCodec, type CursorCodec } from '../http/cursor-codec.ts';

export interface KernelOptions {
  readonly config: EmpulseConfig;
  readonly env: Env;
  readonly mode: RuntimeMode;
  readonly logger: Logger;
  readonly database: DatabaseConfig;
  /** Apply pending migrations at boot (default true); when false, pending ones fail the boot. */
  readonly autoMigrate?: boolean;
  /**
   * Services to set before any plugin initialises, by ref: the test kit's fakes of a plugin's
   * dependencies (or of the kernel's own services). No enabled plugin may provide them too.
   */
  readonly services?: readonly (readonly [{ readonly id: string }, unknown])[];
}

export interface BootOptions {
  readonly migrate?: 'apply' | 'require-none' | 'skip';
  readonly start?: boolean;
}

export type KernelState = 'created' | 'prepared' | 'running' | 'draining' | 'stopped';

const DEFAULT_HTTP: Required<HttpSettings> = {
  allowedOrigins: [],
  trustedProxies: [],
  bodyLimitBytes: 1024 * 1024,
  requestTimeoutMs: 30_000,
};

export interface PluginDescription {
  readonly id: string;
  readonly version: string;
  readonly description: string | undefined;
  readonly dependsOn: readonly string[];
  readonly provides: readonly string[];
  readonly requires: readonly string[];
  /** Services it uses when some plugin provides them. */
  readonly optional: readonly string[];
  readonly routes: readonly { readonly method: string; readonly path: string; readonly summary: string | undefined }[];
  readonly tables: readonly string[];
  readonly migrations: readonly string[];
  readonly healthChecks: readonly string[];
  readonly commands: readonly string[];
  readonly config: Record<string, unknown>;
}

export class Kernel {
  readonly version = KERNEL_VERSION;
  readonly plan: KernelPlan;
  readonly health = new HealthRegistry();
  readonly logger: Logger;
  readonly services = new ServiceRegistry();
  readonly #options: KernelOptions;
  readonly #http: Required<HttpSettings>;
  readonly #hooks: HookBus;
  readonly #shutdown = new AbortController();
  readonly #slots: readonly PluginSlot[];
  readonly #lifecycle: LifecycleRunner;
  readonly #guards = new ExtensionPoint<RouteGuard>('core.http.guards');
  readonly #exposedHeaders = new ExtensionPoint<string>('core.http.exposed-headers');
  readonly #responseObservers = new ExtensionPoint<ResponseObserver>('core.http.response-observers');
  readonly #fakes: ReadonlySet<string>;
  readonly #outages: OutageLog;
  /** The database's port, so a refused connection to it is counted as the database's outage. */
  readonly #peers: PeerNames;
  #db: OpenedDatabase | undefined;
  #app: Koa<LazyRequestState, HttpContext> | undefined;
  #state: KernelState = 'created';
  #routes: readonly RouteDefinition[] = [];

  /** Throws a BootError listing every configuration and dependency problem. */
  constructor(options: KernelOptions) {
    this.#options = options;
    this.logger = options.logger;
    this.#http = { ...DEFAULT_HTTP, ...definedOnly(options.config.http ?? {}) };
    this.#hooks = new HookBus(options.logger);
    this.plan = planKernel(options.config, options.env, options.mode, new Set((options.services ?? []).map(([ref]) => ref.id)));
    this.#fakes = new Set((options.services ?? []).map(([ref]) => ref.id));
    for (const [ref, impl] of options.services ?? []) this.services.provide(ref.id, impl);
    const redacted = this.plan.plugins.flatMap((p) => p.plugin.redact);
    if (redacted.length > 0 && !extendRedaction(options.logger, redacted)) {
      options.logger.warn({ fields: redacted }, 'this logger was not made by createLogger: plugin fields to redact are not censored');
    }
    this.#peers = databasePeer(options.database);
    this.#outages = new OutageLog({
      logger: this.logger,
      ...(options.config.outages?.summaryIntervalMs !== undefined && { summaryIntervalMs: options.config.outages.summaryIntervalMs }),
      // The database's outage ends when it answers again, whether or not requests arrive.
      probes: new Map([['database', () => (this.#db ? this.#db.ping() : Promise.reject(new Error('closed')))]]),
    });
    this.#registerCoreServices();
    const cursors = lazyCursorCodec(() => loadOrCreateKey(this.database.orm.em.getConnection(), 'cursor'));
    this.#lifecycle = new LifecycleRunner({ services: this.services, health: this.health, hooks: this.#hooks, logger: this.logger });
    this.#slots = this.plan.plugins.map(
      ({ plugin, config }) =>
        new PluginSlot(plugin, {
          config,
          logger: this.logger,
          mode: options.mode,
          env: options.env,
          services: this.services,
          db: () => this.#db,
          emit: (hook, payload, emitOptions) => this.#hooks.emit(hook, payload, emitOptions),
          shutdownSignal: this.#shutdown.signal,
          cursors,
        }),
    );
  }

  get state(): KernelState {
    return this.#state;
  }

  get database(): OpenedDatabase {
    if (!this.#db) throw new Error('the kernel has not opened the database yet');
    return this.#db;
  }

  /** Kernel migrations first, then each plugin's, in dependency order. */
  get migrationList(): MigrationEntry[] {
    return [...kernelMigrations, ...this.plan.plugins.flatMap((p) => p.plugin.migrations)];
  }

  /** Opens the database (idempotent). Enough for the `migrate` commands. */
  async prepare(): Promise<void> {
    if (this.#db) return;
    this.#db = await openDatabase({
      config: this.#options.database,
      entities: this.plan.plugins.flatMap((p) => [...p.plugin.entities]),
      migrations: this.migrationList,
      logger: this.logger,
      onCommit: (tx, enclosing) => this.#hooks.committed(tx, enclosing),
      onRollback: (tx) => this.#hooks.rolledBack(tx),
    });
    // MikroORM connects lazily; reach the database now so a wrong URL fails the boot clearly.
    try {
      await this.#db.ping();
    } catch (err) {
      await this.#db.close().catch(() => undefined);
      this.#db = undefined;
      const what = this.#options.database.driver === 'postgresql' ? 'DATABASE_URL' : 'DATA_DIR';
      throw new BootError([{ path: what, message: databaseProblem(err) }], err);
    }
    this.health.add('database', async () => this.#db!.ping());
    this.#state = 'prepared';
  }

  migrations(): MigrationRunner {
    return new MigrationRunner(this.database, this.migrationList, this.logger);
  }

  /**
   * Everything up to serving: database, migrations, init, routes, start. `migrate` defaults to
   * applying pending migrations (or refusing them when `autoMigrate` is false); `skip` and
   * `start: false` are for `empulse check`, which only initialises to reach dependencies.
   * Any failure stops what already ran (the one rollback path is `stop()`) and is rethrown.
   */
  async boot(options: BootOptions = {}): Promise<void> {
    const started = performance.now();
    await this.prepare();
    try {
      await this.#migrate(options.migrate ?? ((this.#options.autoMigrate ?? true) ? 'apply' : 'require-none'));
      await this.#lifecycle.initAll(this.#slots);
      this.#guards.close();
      this.#exposedHeaders.close();
      this.#responseObservers.close();
      this.#app = this.#mountRoutes();
      if (options.start === false) return;
      await this.#lifecycle.startAll();
    } catch (err) {
      await this.stop();
      if (err instanceof MigrationError) {
        throw new BootError([{ ...(err.owner !== 'kernel' && err.owner && { plugin: err.owner }), path: err.migration, message: err.message }], err);
      }
      throw err;
    }
    this.#state = 'running';
    this.logger.info(
      { plugins: this.plan.plugins.map((p) => p.plugin.id), bootMs: Math.round(performance.now() - started) },
      'kernel running',
    );
  }

  /** The Node-style request listener of the HTTP pipeline. */
  callback(): ReturnType<Koa['callback']> {
    if (!this.#app) throw new Error('the kernel is not booted');
    return this.#app.callback();
  }

  get routes(): readonly RouteDefinition[] {
    return this.#routes;
  }

  /** Readiness turns 503 from now on; long-running plugin work sees `shutdownSignal` abort. */
  beginShutdown(): void {
    if (this.#state === 'draining' || this.#state === 'stopped') return;
    this.#state = 'draining';
    this.health.markShuttingDown();
    this.#shutdown.abort();
  }

  isDraining(): boolean {
    return this.#state === 'draining';
  }

  /** Stops plugins in reverse order (each within its timeout), lets hooks finish, closes the database. */
  async stop(): Promise<void> {
    if (this.#state === 'stopped') return;
    this.beginShutdown();
    await this.#lifecycle.stopAll();
    await withTimeout(() => this.#hooks.settled(), DEFAULT_TIMEOUTS.stop, 'hook deliveries').catch((err: unknown) =>
      this.logger.warn({ err }, 'hook deliveries still running at shutdown'),
    );
    this.#outages.close();
    await this.#db?.close();
    this.#db = undefined;
    this.#state = 'stopped';
    this.logger.info('kernel stopped');
  }

  /** Waits until every hook delivered so far has been handled (tests, shutdown). */
  hooksSettled(): Promise<void> {
    return this.#hooks.settled();
  }

  /** The plugin command named by the leading words of `words`, and the arguments after it. */
  findCommand(words: readonly string[]): { readonly entry: CommandEntry; readonly args: readonly string[] } | undefined {
    return matchCommand(this.plan.commands, words);
  }

  /**
   * Runs a plugin's command in this kernel, whose plugins must be initialised (`boot`, with or
   * without `start`). Resolves to the exit code; 2 for an unknown command.
   */
  async runCommand(words: readonly string[], io: CommandIo): Promise<number> {
    const found = this.findCommand(words);
    if (!found) {
      io.err(`unknown command "${words.join(' ')}"`);
      return 2;
    }
    const slot = this.#slots.find((s) => s.plugin.id === found.entry.plugin)!;
    if (!slot.isInitialised) throw new Error(`plugin "${slot.plugin.id}" is not initialised: boot the kernel before running its commands`);
    return found.entry.command.run(slot.context, found.args, io);
  }

  /** What each plugin contributes, without touching the database. */
  describe(): PluginDescription[] {
    const routes = this.#routes.length > 0 ? this.#routes : collectRoutes(this.#slots).routes;
    return this.plan.plugins.map(({ plugin, config }) => ({
      id: plugin.id,
      version: plugin.version,
      description: plugin.description,
      dependsOn: this.plan.dependencies.get(plugin.id) ?? [],
      provides: Object.values(plugin.provides).map((r) => r.id),
      requires: Object.values(plugin.requires).map((r) => r.id),
      routes: routes.filter((r) => r.plugin === plugin.id).map((r) => ({ method: r.method, path: r.path, summary: r.options.summary })),
      tables: [...new Set([...plugin.entities.map(tableName), ...plugin.tables])],
      optional: Object.values(plugin.optional).map((r) => r.id),
      migrations: plugin.migrations.map((m) => m.name),
      healthChecks: Object.keys(plugin.health),
      commands: Object.keys(plugin.commands),
      config: redactConfig(plugin, config),
    }));
  }

  #registerCoreServices(): void {
    const lifecycle: LifecycleService = { isShuttingDown: () => this.#state === 'draining' || this.#state === 'stopped' };
    const catalog: RouteCatalog = {
      list: () => this.#routes,
      plugins: () => this.plan.plugins.map(({ plugin }) => ({ id: plugin.id, version: plugin.version, description: plugin.description })),
      kernelVersion: KERNEL_VERSION,
      problems: () => this.plan.problemCodes,
    };
    const outages: OutageService = {
      report: (err, context) => {
        const outage = outageOf(err, this.#peers);
        if (outage) this.#outages.refused(outage, context);
        return outage !== undefined;
      },
      isOpen: (dependency) => this.#outages.open.includes(dependency),
    };
    const http: HttpService = {
      addGuard: (guard) => this.#guards.add(guard),
      exposeHeaders: (...names) => names.forEach((name) => this.#exposedHeaders.add(name)),
      observeResponses: (observer) => this.#responseObservers.add(observer),
    };
    for (const [ref, impl] of [
      [coreServices.health, this.health],
      [coreServices.lifecycle, lifecycle],
      [coreServices.routes, catalog],
      [coreServices.http, http],
      [coreServices.outages, outages],
    ] as const) {
      if (!this.#fakes.has(ref.id)) this.services.provide(ref.id, impl);
    }
  }

  async #migrate(mode: NonNullable<BootOptions['migrate']>): Promise<void> {
    if (mode === 'skip') return; // `empulse check` reports pending migrations itself
    const runner = this.migrations();
    if (mode === 'apply') {
      const applied = await runner.up();
      if (applied.length > 0) this.logger.info({ migrations: applied }, 'migrations applied');
    } else {
      const pending = await runner.pending();
      if (pending.length > 0) {
        throw new BootError([
          { path: 'EMPULSE_AUTO_MIGRATE', message: `${pending.length} pending migration(s) (${pending.join(', ')}): run "npx empulse migrate up"` },
        ]);
      }
    }
    await recordPlugins(this.database, this.plan.plugins.map((p) => p.plugin));
  }

  #mountRoutes(): Koa<LazyRequestState, HttpContext> {
    const { routes, problems } = collectRoutes(this.#slots);
    if (problems.length > 0) throw new BootError(problems);
    this.#routes = routes;
    return createHttpApp({
      logger: this.logger,
      settings: this.#http,
      routes,
      guards: this.#guards.items,
      exposedHeaders: this.#exposedHeaders.items,
      responseObservers: this.#responseObservers.items,
      forkEm: () => this.database.em(),
      isDraining: () => this.isDraining(),
      outages: this.#outages,
      peers: this.#peers,
    });
  }
}

/** The database's port, so a refused connection to it is logged as the database's outage. */
function databasePeer(config: DatabaseConfig): PeerNames {
  if (config.driver !== 'postgresql') return new Map();
  try {
    const url = new URL(config.url);
    return new Map([[Number(url.port || 5432), 'database']]);
  } catch {
    return new Map();
  }
}

/**
 * A codec whose key is read from (or created in) the database on first use: the key table exists
 * only once the kernel's migrations ran, and most kernels (probes, CLI commands) never page.
 */
function lazyCursorCodec(loadKey: () => Promise<Uint8Array>): CursorCodec {
  let codec: Promise<CursorCodec> | undefined;
  const ready = () => (codec ??= loadKey().then(createCursorCodec).catch((err: unknown) => {
    codec = undefined; // try again on the next use
    throw err;
  }));
  return {
    encode: async (position, scope) => (await ready()).encode(position, scope),
    decode: (async (cursor: string, scope: string, schema?: Parameters<CursorCodec['decode']>[2]) =>
      schema ? (await ready()).decode(cursor, scope, schema) : (await ready()).decode(cursor, scope)) as CursorCodec['decode'],
  };
}

function tableName(entity: { readonly meta: unknown }): string {
  const meta = entity.meta as { tableName?: string; collection?: string; className?: string };
  return meta.tableName ?? meta.collection ?? meta.className ?? '(unnamed)';
}

/** An error's message without any credentials a driver may have quoted from the URL. */
/** Why the database could not be used, by PostgreSQL's SQLSTATE when it answered at all. */
function databaseProblem(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === '3D000') return `${describeError(err)}: check the database name in DATABASE_URL, or create it first (createdb <name>)`;
  if (code === '28000' || code === '28P01') return `the server refused the login (${describeError(err)}): check the user and password in DATABASE_URL`;
  return `the database is unreachable: ${describeError(err)}`;
}

function describeError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/\/\/[^/@\s]+@/g, '//[redacted]@');
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, value]) => value !== undefined)) as Partial<T>;
}
