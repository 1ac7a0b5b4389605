/**
 * The kernel: plans the boot (options, dependency graph), opens the database, applies pending
 * migrations, initialises plugins in dependency order, mounts their routes, starts them, and at
 * shutdown drains and stops them in reverse order.
 */
import type Koa from 'koa';
import type { EntitySchema } from '@mikro-orm/core';
import type { EmpulseConfig, HttpSettings } from '../config/define-config.ts';
import { coreServices, type HttpService, type LifecycleService, type RouteCatalog } from '../core-services.ts';
import { buildOpenApi } from '../http/openapi.ts';
import type { DatabaseConfig } from '../database/database.ts';
import { MigrationError, MigrationRunner } from '../database/migration-runner.ts';
import type { MigrationEntry } from '../database/migration-entry.ts';
import { openDatabase, type OpenedDatabase } from '../database/open-database.ts';
import { HealthRegistry } from '../health/health-registry.ts';
import { createHttpApp } from '../http/create-app.ts';
import type { HttpContext } from '../http/context.ts';
import { createPluginRouter, routeKey, type RouteDefinition, type RouteGuard } from '../http/plugin-router.ts';
import type { LazyRequestState } from '../http/request-state.ts';
import type { Logger } from '../logging/logger.ts';
import { HookBus } from '../plugin/hook-bus.ts';
import { bindHook } from '../plugin/hooks.ts';
import type { Env, Plugin, RuntimeMode } from '../plugin/define-plugin.ts';
import { kernelMigrations } from '../../migrations/index.ts';
import { BootError, type BootProblem } from './boot-error.ts';
import { planKernel, type KernelPlan } from './plan.ts';
import { createPluginContext, type AnyPluginContext } from './plugin-context.ts';
import { redactConfig } from './validate-config.ts';
import { KERNEL_VERSION } from './version.ts';
import { withTimeout } from './with-timeout.ts';

export interface KernelOptions {
  readonly config: EmpulseConfig;
  readonly env: Env;
  readonly mode: RuntimeMode;
  readonly logger: Logger;
  readonly database: DatabaseConfig;
  /** Apply pending migrations at boot (default true); when false, pending ones fail the boot. */
  readonly autoMigrate?: boolean;
}

export interface BootOptions {
  readonly migrate?: 'apply' | 'require-none' | 'skip';
  readonly start?: boolean;
}

export type KernelState = 'created' | 'prepared' | 'running' | 'draining' | 'stopped';

const DEFAULT_TIMEOUTS = { init: 10_000, start: 10_000, stop: 5_000 } as const;

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
  readonly routes: readonly { readonly method: string; readonly path: string; readonly summary: string | undefined }[];
  readonly tables: readonly string[];
  readonly migrations: readonly string[];
  readonly healthChecks: readonly string[];
  readonly config: Record<string, unknown>;
}

interface Running {
  readonly plugin: Plugin;
  readonly ctx: AnyPluginContext;
}

export class Kernel {
  readonly version = KERNEL_VERSION;
  readonly plan: KernelPlan;
  readonly health = new HealthRegistry();
  readonly logger: Logger;
  readonly #options: KernelOptions;
  readonly #http: Required<HttpSettings>;
  readonly #hooks: HookBus;
  readonly #services = new Map<string, unknown>();
  readonly #shutdown = new AbortController();
  #db: OpenedDatabase | undefined;
  #app: Koa<LazyRequestState, HttpContext> | undefined;
  #running: Running[] = [];
  #state: KernelState = 'created';
  #routes: RouteDefinition[] = [];
  readonly #guards: RouteGuard[] = [];

  /** Throws a BootError listing every configuration and dependency problem. */
  constructor(options: KernelOptions) {
    this.#options = options;
    this.logger = options.logger;
    this.#http = { ...DEFAULT_HTTP, ...definedOnly(options.config.http ?? {}) };
    this.#hooks = new HookBus(options.logger);
    this.plan = planKernel(options.config, options.env, options.mode);
    const lifecycle: LifecycleService = { isShuttingDown: () => this.#state === 'draining' || this.#state === 'stopped' };
    this.#services.set(coreServices.health.id, this.health);
    this.#services.set(coreServices.lifecycle.id, lifecycle);
    let document: Record<string, unknown> | undefined;
    const catalog: RouteCatalog = {
      list: () => this.#routes,
      openApi: () =>
        (document ??= buildOpenApi(this.#routes, {
          title: 'Empulse API',
          version: KERNEL_VERSION,
          description: `Plugins: ${this.plan.plugins.map((p) => `${p.plugin.id}@${p.plugin.version}`).join(', ')}. Errors are RFC 9457 problem details with a stable code.`,
        })),
    };
    this.#services.set(coreServices.routes.id, catalog);
    const http: HttpService = { addGuard: (guard) => void this.#guards.push(guard) };
    this.#services.set(coreServices.http.id, http);
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
    return [...kernelMigrations, ...this.plan.plugins.flatMap((p) => p.plugin.migrations ?? [])];
  }

  /** Opens the database (idempotent). Enough for the `migrate` commands. */
  async prepare(): Promise<void> {
    if (this.#db) return;
    const entities: EntitySchema[] = this.plan.plugins.flatMap((p) => [...(p.plugin.entities ?? [])]);
    this.#db = await openDatabase({
      config: this.#options.database,
      entities,
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
      throw new BootError([{ path: what, message: `the database is unreachable: ${describeError(err)}` }], err);
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
   */
  async boot(options: BootOptions = {}): Promise<void> {
    const started = performance.now();
    await this.prepare();
    try {
      await this.#migrate(options.migrate ?? ((this.#options.autoMigrate ?? true) ? 'apply' : 'require-none'));
    } catch (err) {
      await this.stop();
      if (err instanceof MigrationError) {
        throw new BootError([{ ...(err.owner !== 'kernel' && err.owner && { plugin: err.owner }), path: err.migration, message: err.message }], err);
      }
      throw err;
    }
    await this.#initAll();
    try {
      this.#app = this.#mountRoutes();
    } catch (err) {
      await this.stop();
      throw err;
    }
    if (options.start === false) return;
    await this.#startAll();
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
    for (const { plugin, ctx } of [...this.#running].reverse()) {
      if (!plugin.stop) continue;
      const ms = plugin.timeouts?.stop ?? DEFAULT_TIMEOUTS.stop;
      try {
        await withTimeout(() => plugin.stop!(ctx as never), ms, `plugin "${plugin.id}" stop`);
      } catch (err) {
        this.logger.error({ err, plugin: plugin.id }, 'plugin stop failed');
      }
    }
    this.#running = [];
    await withTimeout(() => this.#hooks.settled(), DEFAULT_TIMEOUTS.stop, 'hook deliveries').catch((err: unknown) =>
      this.logger.warn({ err }, 'hook deliveries still running at shutdown'),
    );
    await this.#db?.close();
    this.#db = undefined;
    this.#state = 'stopped';
    this.logger.info('kernel stopped');
  }

  /** Waits until every hook delivered so far has been handled (tests, shutdown). */
  hooksSettled(): Promise<void> {
    return this.#hooks.settled();
  }

  /** What each plugin contributes, without touching the database. */
  describe(): PluginDescription[] {
    const routes = this.#routes.length > 0 ? this.#routes : this.#collectRoutes(true).routes;
    return this.plan.plugins.map(({ plugin, config }) => ({
      id: plugin.id,
      version: plugin.version,
      description: plugin.description,
      dependsOn: this.plan.dependencies.get(plugin.id) ?? [],
      provides: Object.values(plugin.provides ?? {}).map((r) => r.id),
      requires: Object.values(plugin.requires ?? {}).map((r) => r.id),
      routes: routes.filter((r) => r.plugin === plugin.id).map((r) => ({ method: r.method, path: r.path, summary: r.options.summary })),
      tables: (plugin.entities ?? []).map(tableName),
      migrations: (plugin.migrations ?? []).map((m) => m.name),
      healthChecks: Object.keys(plugin.health ?? {}),
      config: redactConfig(plugin, config),
    }));
  }

  #context(plugin: Plugin, config: Readonly<Record<string, unknown>>, dryRun = false): AnyPluginContext {
    return createPluginContext(plugin, {
      config,
      logger: this.logger,
      mode: this.#options.mode,
      env: this.#options.env,
      services: this.#services,
      db: dryRun ? undefined : this.#db,
      emit: (hook, payload, options) => this.#hooks.emit(hook, payload, options),
      shutdownSignal: this.#shutdown.signal,
    });
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
    await this.#recordPlugins();
  }

  async #recordPlugins(): Promise<void> {
    const conn = this.database.orm.em.getConnection();
    for (const { plugin } of this.plan.plugins) {
      await conn.execute(
        `insert into empulse_plugins (id, version, installed_at, last_booted_at) values (?, ?, now(), now())
         on conflict (id) do update set version = excluded.version, last_booted_at = now()`,
        [plugin.id, plugin.version],
      );
    }
  }

  async #initAll(): Promise<void> {
    for (const { plugin, config } of this.plan.plugins) {
      const ctx = this.#context(plugin, config);
      const ms = plugin.timeouts?.init ?? DEFAULT_TIMEOUTS.init;
      try {
        const provided = (await withTimeout(() => plugin.init?.(ctx as never), ms, `plugin "${plugin.id}" init`)) as
          | Record<string, unknown>
          | undefined;
        for (const [name, ref] of Object.entries(plugin.provides ?? {})) {
          const impl = provided?.[name];
          if (impl === undefined) throw new Error(`init did not return the service "${name}" it provides`);
          this.#services.set(ref.id, impl);
        }
      } catch (err) {
        await this.stop();
        throw new BootError([{ plugin: plugin.id, message: `init failed: ${err instanceof Error ? err.message : String(err)}` }], err);
      }
      this.#running.push({ plugin, ctx });
      for (const [name, check] of Object.entries(plugin.health ?? {})) this.health.add(name, (signal) => check(ctx as never, signal));
      for (const sub of plugin.hooks?.(bindHook) ?? []) {
        this.#hooks.subscribe(sub.hook.id, plugin.id, (payload) => sub.handler(payload, ctx as never));
      }
    }
  }

  #collectRoutes(dryRun: boolean): { routes: RouteDefinition[]; problems: BootProblem[] } {
    const routes: RouteDefinition[] = [];
    const problems: BootProblem[] = [];
    const owners = new Map<string, RouteDefinition>();
    for (const { plugin, config } of this.plan.plugins) {
      if (!plugin.routes) continue;
      const prefixes = plugin.prefixes ?? [`/v1/${plugin.id}`];
      const router = createPluginRouter(
        plugin.id,
        prefixes,
        (route) => {
          const other = owners.get(routeKey(route));
          if (other) {
            problems.push({
              plugin: plugin.id,
              path: `${route.method} ${route.path}`,
              message: `route conflicts with ${other.method} ${other.path} of plugin "${other.plugin}"`,
            });
            return;
          }
          owners.set(routeKey(route), route);
          routes.push(route);
        },
        (message) => problems.push({ plugin: plugin.id, message }),
      );
      const ctx = dryRun ? this.#context(plugin, config, true) : this.#running.find((r) => r.plugin === plugin)!.ctx;
      plugin.routes(router, ctx as never);
    }
    return { routes, problems };
  }

  #mountRoutes(): Koa<LazyRequestState, HttpContext> {
    const { routes, problems } = this.#collectRoutes(false);
    if (problems.length > 0) throw new BootError(problems);
    this.#routes = routes;
    return createHttpApp({
      logger: this.logger,
      settings: this.#http,
      routes,
      guards: this.#guards,
      forkEm: () => this.database.em(),
      isDraining: () => this.isDraining(),
    });
  }

  async #startAll(): Promise<void> {
    for (const { plugin, ctx } of this.#running) {
      if (!plugin.start) continue;
      const ms = plugin.timeouts?.start ?? DEFAULT_TIMEOUTS.start;
      try {
        await withTimeout(() => plugin.start!(ctx as never), ms, `plugin "${plugin.id}" start`);
      } catch (err) {
        await this.stop();
        throw new BootError([{ plugin: plugin.id, message: `start failed: ${err instanceof Error ? err.message : String(err)}` }], err);
      }
    }
  }
}

function tableName(entity: EntitySchema): string {
  const meta = entity.meta as { tableName?: string; collection?: string; className?: string };
  return meta.tableName ?? meta.collection ?? meta.className ?? '(unnamed)';
}

/** An error's message without any credentials a driver may have quoted from the URL. */
function describeError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/\/\/[^/@\s]+@/g, '//[redacted]@');
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, value]) => value !== undefined)) as Partial<T>;
}
