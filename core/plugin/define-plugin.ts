/**
 * The plugin contract third parties write against. A plugin is an inert object made by
 * `definePlugin`: nothing runs at import time; the kernel reads the declarations, validates the
 * operator's options, wires services in dependency order and calls the lifecycle functions.
 */
import type * as v from 'valibot';
import type { EntitySchema } from '@mikro-orm/core';
import type { Logger } from '../logging/logger.ts';
import type { Database } from '../database/database.ts';
import type { PluginRouter } from '../http/plugin-router.ts';
import type { EmitOptions, HookBinder, HookRef, HookSubscription, PayloadOf } from './hooks.ts';
import type { ExtensionPoint } from './extension-point.ts';
import type { CursorCodec } from '../http/cursor-codec.ts';
import type { OptionalServicesOf, ServiceRefMap, ServicesOf } from './service-ref.ts';
import type { MigrationEntry } from '../database/migration-entry.ts';
import type { ProblemCatalogue } from '../http/problem.ts';
import type { CheckOutcome } from '../health/health-registry.ts';

/** The environment as the host read it (process env plus `.env`). The core never reads it itself. */
export type Env = Readonly<Record<string, string | undefined>>;

/** `production` turns unsafe defaults into boot errors; `test` is what the test kernel uses. */
export type RuntimeMode = 'development' | 'production' | 'test';

/** A plugin's option schema: a valibot strict object, so a typo in an option is a boot error. */
export type ConfigSchema =
  | v.StrictObjectSchema<v.ObjectEntries, undefined>
  | v.StrictObjectSchema<v.ObjectEntries, v.ErrorMessage<v.StrictObjectIssue>>;

/** An empty options schema, the default for plugins without options. */
export type NoConfig = v.StrictObjectSchema<{}, undefined>;

/** What a plugin's code sees: its own validated options, its services, and the kernel's tools. */
export interface PluginContext<Config, Services, State = undefined> {
  readonly pluginId: string;
  readonly config: Config;
  /** Required, optional and own provided services (own ones only after `init` returned). */
  readonly services: Services;
  /**
   * The plugin's own state: what its `init` returned as `state`, one per kernel (two kernels in
   * one process share nothing). Routes, hooks, health checks, `start` and `stop` read it; route
   * registration itself runs before `init` (e.g. `empulse plugins`), so only handlers may.
   */
  readonly state: State;
  readonly logger: Logger;
  readonly mode: RuntimeMode;
  readonly env: Env;
  /** The database (MikroORM). Use `db.em()` for a fresh EntityManager outside requests. */
  readonly db: Database;
  /** Emits a typed hook; with `{ em }` inside a transaction, delivery waits for its commit. */
  emit<H extends HookRef<unknown>>(hook: H, payload: PayloadOf<H>, options?: EmitOptions): void;
  /** Aborted when the kernel begins shutting down: long-running work should stop. */
  readonly shutdownSignal: AbortSignal;
  /**
   * Signs and checks list cursors (see `page()` and `paginationQuery`): one key per deployment,
   * kept in the database, so cursors survive restarts and work on every instance.
   */
  readonly cursors: CursorCodec;
  /**
   * Registers a clean-up (close a client, flush a queue) that runs at shutdown after this plugin's
   * `stop`, last registered first (avvio's `onClose`), each within the plugin's stop timeout.
   */
  onStop(cleanup: () => void | Promise<void>): void;
  /**
   * Opens an extension point other plugins add to while plugins initialise (e.g. login gates,
   * email templates): `add` throws once the kernel runs, so nothing changes under live traffic.
   */
  extensionPoint<T>(name: string): ExtensionPoint<T>;
}

/** The context `init` receives: the state does not exist yet (init creates it). */
export type InitPluginContext<Config, Services> = Omit<PluginContext<Config, Services, never>, 'state'>;

/** Where a command writes: lines for the operator (`out`) and problems (`err`). */
export interface CommandIo {
  out(line: string): void;
  err(line: string): void;
}

/**
 * A command a plugin adds to the `empulse` CLI (e.g. `users set-role`). It runs in a kernel whose
 * plugins are initialised but not started (no background work); with the embedded database held
 * by a running server, the host runs it inside that server instead.
 */
export interface PluginCommand<Ctx> {
  /** What follows the command's words, for the usage line, e.g. `<email> <artist|admin>`. */
  readonly args?: string;
  readonly description: string;
  /** Resolves to the exit code: 0 success, 1 failure (say why on `io.err`), 2 wrong usage. */
  run(ctx: Ctx, args: readonly string[], io: CommandIo): Promise<number>;
}

/** A problem a plugin reports from `validate` (e.g. a secret that production requires). */
export interface ConfigProblem {
  /** Dotted path of the option, or the environment variable the operator should set. */
  readonly path: string;
  readonly message: string;
}

/** A readiness check: resolves when the dependency is reachable, throws (with a message) when not. */
export type HealthCheck<Ctx> = (ctx: Ctx, signal: AbortSignal) => Promise<CheckOutcome>;

export interface LifecycleTimeouts {
  /** Milliseconds each phase may take before boot (or shutdown) fails naming this plugin. */
  readonly init?: number;
  readonly start?: number;
  readonly stop?: number;
}

/**
 * What `init` returns: the services the plugin provides (required when it declares `provides`)
 * and its own state. A plugin with neither returns nothing.
 */
export type InitResult<Provides extends ServiceRefMap, State> = (keyof Provides extends never
  ? { readonly services?: undefined }
  : { readonly services: ServicesOf<Provides> }) & { readonly state?: State };

export type PluginServices<R extends ServiceRefMap, O extends ServiceRefMap, P extends ServiceRefMap> = ServicesOf<R> &
  OptionalServicesOf<O> &
  ServicesOf<P>;

/** The context a plugin's routes, hooks, checks and lifecycle functions receive. */
export type FullContext<Schema extends ConfigSchema, R extends ServiceRefMap, O extends ServiceRefMap, P extends ServiceRefMap, State> =
  PluginContext<v.InferOutput<Schema>, PluginServices<R, O, P>, State>;

/** The context `init` receives: its own services and state do not exist yet. */
export type InitContext<Schema extends ConfigSchema, R extends ServiceRefMap, O extends ServiceRefMap> = InitPluginContext<
  v.InferOutput<Schema>,
  ServicesOf<R> & OptionalServicesOf<O>
>;

/**
 * Everything a plugin declares. The type parameters are inferred from the object passed to
 * `definePlugin`; `State` from what `init` returns as `state`, so declare `init` before the
 * functions that read `ctx.state`.
 */
export interface PluginSpec<
  Id extends string,
  Schema extends ConfigSchema,
  Requires extends ServiceRefMap,
  Optional extends ServiceRefMap,
  Provides extends ServiceRefMap,
  State,
> {
  /** Lower-case id; also the default route prefix (`/v1/<id>`) and the table/migration prefix. */
  readonly id: Id;
  /** The plugin's own version (semver). */
  readonly version: string;
  /** Kernel versions this plugin works with, as a semver range, e.g. `^0.1.0`. */
  readonly kernel?: string;
  readonly description?: string;
  /** Services this plugin cannot work without: boot fails when one is not provided. */
  readonly requires?: Requires;
  /** Services used when present. */
  readonly optional?: Optional;
  /** Services this plugin implements; `init` returns them as `services`, under the same names. */
  readonly provides?: Provides;
  /** valibot strict-object schema with defaults; the operator's options are validated at boot. */
  readonly config?: Schema;
  /** Option values taken from the environment (lower precedence than the operator's options). */
  readonly fromEnv?: (env: Env) => Partial<v.InferInput<Schema>>;
  /** Top-level option names whose values are secrets: printed as `[redacted]`. */
  readonly secrets?: readonly (keyof v.InferOutput<Schema> & string)[];
  /** Extra checks on the validated options (run together with every other plugin's). */
  readonly validate?: (config: v.InferOutput<Schema>, mode: RuntimeMode) => readonly ConfigProblem[];
  /**
   * Field names that hold this plugin's secrets or personal data (e.g. `tin`): every log line of
   * the kernel censors them, at any depth, whichever plugin logs them.
   */
  readonly redact?: readonly string[];
  /**
   * The catalogues of problem codes this plugin raises (what `defineProblems` returns): the kernel
   * learns each code's status (the OpenAPI document lists a route's `problems` by status) and
   * refuses to boot when two plugins give one code different statuses.
   */
  readonly problems?: readonly ProblemCatalogue[];
  /** MikroORM entities (`defineEntity`), with table names prefixed by the plugin id. */
  readonly entities?: readonly EntitySchema[];
  /**
   * Tables its migrations create that no entity maps (stores written in plain SQL), so
   * `empulse plugins` and `describe()` list every table the plugin owns; the conformance suite
   * checks the two lists together against what the migrations create.
   */
  readonly tables?: readonly string[];
  /** Explicit, ordered migrations, each named `<id>/<nnnn>_<what>`. */
  readonly migrations?: readonly MigrationEntry[];
  /** Path prefixes this plugin's routes live under; default `['/v1/<id>']`. */
  readonly prefixes?: readonly string[];
  /** Creates the plugin's services and state. Runs in dependency order, before routes are mounted. */
  readonly init?: (
    ctx: InitContext<Schema, Requires, Optional>,
  ) => InitResult<Provides, State> | void | Promise<InitResult<Provides, State> | void>;
  /** Registers routes. Handlers may use `ctx.services` and `ctx.state`; registration itself must not. */
  readonly routes?: (router: PluginRouter, ctx: FullContext<Schema, Requires, Optional, Provides, State>) => void;
  /** Hook subscriptions: `hooks: (on) => [on(someHook, async (payload, ctx) => { ... })]`. */
  readonly hooks?: (
    on: HookBinder<FullContext<Schema, Requires, Optional, Provides, State>>,
  ) => readonly HookSubscription<FullContext<Schema, Requires, Optional, Provides, State>>[];
  /** Readiness checks for the external systems this plugin depends on, by check name. */
  readonly health?: Readonly<Record<string, HealthCheck<FullContext<Schema, Requires, Optional, Provides, State>>>>;
  /** Runs after every plugin is initialised, before the server listens. */
  readonly start?: (ctx: FullContext<Schema, Requires, Optional, Provides, State>) => void | Promise<void>;
  /** Runs at shutdown, in reverse dependency order, after in-flight requests drained. */
  readonly stop?: (ctx: FullContext<Schema, Requires, Optional, Provides, State>) => void | Promise<void>;
  readonly timeouts?: LifecycleTimeouts;
  /**
   * CLI commands, by their words (`'users set-role'`, `'audit verify'`): lower case, unique across
   * plugins, and not one of the host's own (`start`, `migrate`, `plugins`, `check`, `secrets`, `help`).
   */
  readonly commands?: Readonly<Record<string, PluginCommand<FullContext<Schema, Requires, Optional, Provides, State>>>>;
}

/** The context the kernel hands to any plugin, before the plugin's own types are applied. */
export type AnyPluginContext = PluginContext<Readonly<Record<string, unknown>>, Readonly<Record<string, unknown>>, unknown>;
export type AnyInitContext = InitPluginContext<Readonly<Record<string, unknown>>, Readonly<Record<string, unknown>>>;

declare const specTypes: unique symbol;

/**
 * A plugin as the kernel handles it: its declarations, and its functions over the erased context
 * (`definePlugin` adapts the typed ones). `Plugin<…>` with type arguments also remembers the
 * declared types, for `configure()` and `ContextOf`.
 */
export interface Plugin<
  Id extends string = string,
  Schema extends ConfigSchema = ConfigSchema,
  Requires extends ServiceRefMap = ServiceRefMap,
  Optional extends ServiceRefMap = ServiceRefMap,
  Provides extends ServiceRefMap = ServiceRefMap,
  State = unknown,
> {
  readonly kind: 'empulse.plugin';
  readonly id: Id;
  readonly version: string;
  readonly kernel: string | undefined;
  readonly description: string | undefined;
  readonly requires: ServiceRefMap;
  readonly optional: ServiceRefMap;
  readonly provides: ServiceRefMap;
  readonly config: ConfigSchema | undefined;
  readonly fromEnv: ((env: Env) => object) | undefined;
  readonly secrets: readonly string[];
  readonly validate: ((config: Readonly<Record<string, unknown>>, mode: RuntimeMode) => readonly ConfigProblem[]) | undefined;
  readonly redact: readonly string[];
  readonly problems: readonly ProblemCatalogue[];
  readonly entities: readonly EntitySchema[];
  readonly tables: readonly string[];
  readonly migrations: readonly MigrationEntry[];
  readonly prefixes: readonly string[];
  readonly init: ((ctx: AnyInitContext) => Promise<{ readonly services?: Readonly<Record<string, unknown>>; readonly state?: unknown } | void>) | undefined;
  readonly routes: ((router: PluginRouter, ctx: AnyPluginContext) => void) | undefined;
  readonly hooks: ((on: HookBinder<AnyPluginContext>) => readonly HookSubscription<AnyPluginContext>[]) | undefined;
  readonly health: Readonly<Record<string, HealthCheck<AnyPluginContext>>>;
  readonly start: ((ctx: AnyPluginContext) => void | Promise<void>) | undefined;
  readonly stop: ((ctx: AnyPluginContext) => void | Promise<void>) | undefined;
  readonly timeouts: LifecycleTimeouts;
  readonly commands: Readonly<Record<string, PluginCommand<AnyPluginContext>>>;
  /** Compile-time only: the declared types (covariant, so any plugin is a `Plugin`). Never set. */
  readonly [specTypes]?: () => DeclaredTypes<Schema, Requires, Optional, Provides, State>;
}

interface DeclaredTypes<Schema extends ConfigSchema, Requires extends ServiceRefMap, Optional extends ServiceRefMap, Provides extends ServiceRefMap, State> {
  readonly schema: Schema;
  readonly requires: Requires;
  readonly optional: Optional;
  readonly provides: Provides;
  readonly state: State;
}

type TypesOf<P> = P extends { readonly [specTypes]?: () => infer T } ? T : never;

/** The context type of a given plugin, for helpers written outside its spec (e.g. route files). */
export type ContextOf<P> =
  TypesOf<P> extends DeclaredTypes<infer S, infer R, infer O, infer Pr, infer St> ? FullContext<S, R, O, Pr, St> : never;

/** The state type of a given plugin. */
export type StateOf<P> = TypesOf<P> extends { readonly state: infer St } ? St : never;

/** The options `configure()` takes for a given plugin (its config schema's input). */
export type OptionsOf<P> = TypesOf<P> extends { readonly schema: infer S extends ConfigSchema } ? v.InferInput<S> : never;

/** Declares a plugin. Checks the declaration's shape now, so mistakes surface at import. */
export function definePlugin<
  const Id extends string,
  Schema extends ConfigSchema = NoConfig,
  Requires extends ServiceRefMap = {},
  Optional extends ServiceRefMap = {},
  Provides extends ServiceRefMap = {},
  State = undefined,
>(spec: PluginSpec<Id, Schema, Requires, Optional, Provides, State>): Plugin<Id, Schema, Requires, Optional, Provides, State> {
  if (!/^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/.test(spec.id)) {
    throw new TypeError(`plugin id "${spec.id}" must be lower-case letters, digits and dashes`);
  }
  if (spec.config && spec.config.type !== 'strict_object') {
    throw new TypeError(`plugin "${spec.id}": config must be a valibot strictObject so typos are caught`);
  }
  for (const m of spec.migrations ?? []) {
    if (!m.name.startsWith(`${spec.id}/`)) {
      throw new TypeError(`plugin "${spec.id}": migration "${m.name}" must be named "${spec.id}/<nnnn>_<what>"`);
    }
  }
  // The one place where the erased context meets the declared types: the kernel builds each
  // plugin's context from this very declaration (its config schema, refs and init's state), so
  // the context it passes is the typed one.
  type Ctx = FullContext<Schema, Requires, Optional, Provides, State>;
  const typed = (ctx: AnyPluginContext) => ctx as unknown as Ctx;
  for (const name of Object.keys(spec.commands ?? {})) {
    if (!/^[a-z][a-z0-9-]*(?: [a-z][a-z0-9-]*)*$/.test(name)) {
      throw new TypeError(`plugin "${spec.id}": command "${name}" must be lower-case words separated by single spaces`);
    }
  }
  const { init, routes, hooks, health, start, stop, validate, commands } = spec;
  return Object.freeze({
    kind: 'empulse.plugin' as const,
    id: spec.id,
    version: spec.version,
    kernel: spec.kernel,
    description: spec.description,
    requires: spec.requires ?? {},
    optional: spec.optional ?? {},
    provides: spec.provides ?? {},
    config: spec.config,
    fromEnv: spec.fromEnv,
    secrets: spec.secrets ?? [],
    validate: validate && ((config: Readonly<Record<string, unknown>>, mode: RuntimeMode) => validate(config as v.InferOutput<Schema>, mode)),
    redact: spec.redact ?? [],
    problems: spec.problems ?? [],
    entities: spec.entities ?? [],
    tables: spec.tables ?? [],
    migrations: spec.migrations ?? [],
    prefixes: spec.prefixes ?? [`/v1/${spec.id}`],
    init: init && (async (ctx: AnyInitContext) => (await init(ctx as unknown as InitContext<Schema, Requires, Optional>)) ?? undefined),
    routes: routes && ((router: PluginRouter, ctx: AnyPluginContext) => routes(router, typed(ctx))),
    hooks: hooks && ((on: HookBinder<AnyPluginContext>) => hooks(on as unknown as HookBinder<Ctx>) as unknown as readonly HookSubscription<AnyPluginContext>[]),
    health: Object.fromEntries(
      Object.entries(health ?? {}).map(([name, check]) => [name, (ctx: AnyPluginContext, signal: AbortSignal) => check(typed(ctx), signal)]),
    ),
    start: start && ((ctx: AnyPluginContext) => start(typed(ctx))),
    stop: stop && ((ctx: AnyPluginContext) => stop(typed(ctx))),
    timeouts: spec.timeouts ?? {},
    commands: Object.fromEntries(
      Object.entries(commands ?? {}).map(([name, command]) => [
        name,
        { ...command, run: (ctx: AnyPluginContext, args: readonly string[], io: CommandIo) => command.run(typed(ctx), args, io) },
      ]),
    ),
  });
}

/** A plugin together with the operator's options for it. */
export interface ConfiguredPlugin {
  readonly plugin: Plugin;
  readonly options: unknown;
}

/** Pairs a plugin with typed options, for `defineConfig({ plugins: [...] })`. */
export function configure<P extends Plugin>(plugin: P, options: OptionsOf<P>): ConfiguredPlugin {
  return { plugin, options };
}
