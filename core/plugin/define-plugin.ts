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
import type {
  OptionalServicesOf,
  ServiceRef,
  ServiceRefMap,
  ServicesOf,
} from './service-ref.ts';
import type { MigrationEntry } from '../database/migration-entry.ts';
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
export interface PluginContext<Config, Services> {
  readonly pluginId: string;
  readonly config: Config;
  /** Required, optional and own provided services (own ones only after `init` returned). */
  readonly services: Services;
  readonly logger: Logger;
  readonly mode: RuntimeMode;
  readonly env: Env;
  /** The database (MikroORM). Use `db.em()` for a fresh EntityManager outside requests. */
  readonly db: Database;
  /** Emits a typed hook; with `{ em }` inside a transaction, delivery waits for its commit. */
  emit<H extends HookRef<unknown>>(hook: H, payload: PayloadOf<H>, options?: EmitOptions): void;
  /** Aborted when the kernel begins shutting down: long-running work should stop. */
  readonly shutdownSignal: AbortSignal;
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

type ProvidedInit<Provides extends ServiceRefMap> = keyof Provides extends never
  ? void
  : ServicesOf<Provides>;

/** The context a plugin's routes, hooks, checks and lifecycle functions receive. */
export type FullContext<Schema extends ConfigSchema, R extends ServiceRefMap, O extends ServiceRefMap, P extends ServiceRefMap> =
  PluginContext<v.InferOutput<Schema>, PluginServices<R, O, P>>;

/** The context `init` receives: its own services do not exist yet. */
export type InitContext<Schema extends ConfigSchema, R extends ServiceRefMap, O extends ServiceRefMap> =
  PluginContext<v.InferOutput<Schema>, ServicesOf<R> & OptionalServicesOf<O>>;

/**
 * Everything a plugin declares. The first five type parameters are inferred from the object you
 * pass to `definePlugin`; the last three follow from them (they are `never` in the erased
 * `Plugin` type the kernel handles, which any specific plugin is assignable to).
 */
export interface PluginSpec<
  Id extends string,
  Schema extends ConfigSchema,
  Requires extends ServiceRefMap,
  Optional extends ServiceRefMap,
  Provides extends ServiceRefMap,
  Cfg = v.InferOutput<Schema>,
  Ctx = FullContext<Schema, Requires, Optional, Provides>,
  ICtx = InitContext<Schema, Requires, Optional>,
  Provided = ProvidedInit<Provides>,
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
  /** Services this plugin implements; `init` must return them under the same names. */
  readonly provides?: Provides;
  /** valibot strict-object schema with defaults; the operator's options are validated at boot. */
  readonly config?: Schema;
  /** Option values taken from the environment (lower precedence than the operator's options). */
  readonly fromEnv?: (env: Env) => Partial<v.InferInput<Schema>>;
  /** Top-level option names whose values are secrets: printed as `[redacted]`. */
  readonly secrets?: readonly (keyof Cfg & string)[];
  /** Extra checks on the validated options (run together with every other plugin's). */
  readonly validate?: (config: Cfg, mode: RuntimeMode) => readonly ConfigProblem[];
  /** MikroORM entities (`defineEntity`), with table names prefixed by the plugin id. */
  readonly entities?: readonly EntitySchema[];
  /** Explicit, ordered migrations, each named `<id>/<nnnn>_<what>`. */
  readonly migrations?: readonly MigrationEntry[];
  /** Path prefixes this plugin's routes live under; default `['/v1/<id>']`. */
  readonly prefixes?: readonly string[];
  /** Registers routes. Handlers may use `ctx.services`; registration itself must not. */
  readonly routes?: (router: PluginRouter, ctx: Ctx) => void;
  /** Hook subscriptions: `hooks: (on) => [on(someHook, async (payload, ctx) => { ... })]`. */
  readonly hooks?: (on: HookBinder<Ctx>) => readonly HookSubscription<Ctx>[];
  /** Readiness checks for the external systems this plugin depends on, by check name. */
  readonly health?: Readonly<Record<string, HealthCheck<Ctx>>>;
  /** Builds the provided services. Runs in dependency order, before routes are mounted. */
  readonly init?: (ctx: ICtx) => Provided | Promise<Provided>;
  /** Runs after every plugin is initialised, before the server listens. */
  readonly start?: (ctx: Ctx) => void | Promise<void>;
  /** Runs at shutdown, in reverse dependency order, after in-flight requests drained. */
  readonly stop?: (ctx: Ctx) => void | Promise<void>;
  readonly timeouts?: LifecycleTimeouts;
}

export type PluginServices<
  Requires extends ServiceRefMap,
  Optional extends ServiceRefMap,
  Provides extends ServiceRefMap,
> = ServicesOf<Requires> & OptionalServicesOf<Optional> & ServicesOf<Provides>;

/**
 * A plugin. Without type arguments it is the erased form the kernel handles; `definePlugin`
 * returns the precise form, which is assignable to it.
 */
export interface Plugin<
  Id extends string = string,
  Schema extends ConfigSchema = ConfigSchema,
  Requires extends ServiceRefMap = ServiceRefMap,
  Optional extends ServiceRefMap = ServiceRefMap,
  Provides extends ServiceRefMap = ServiceRefMap,
  Cfg = never,
  Ctx = never,
  ICtx = never,
  Provided = unknown,
> extends PluginSpec<Id, Schema, Requires, Optional, Provides, Cfg, Ctx, ICtx, Provided> {
  readonly kind: 'empulse.plugin';
}

/** The context type of a given plugin, for helpers written outside its spec. */
export type ContextOf<P> = P extends Plugin<string, ConfigSchema, ServiceRefMap, ServiceRefMap, ServiceRefMap, unknown, infer Ctx> ? Ctx : never;

/** Declares a plugin. Checks the declaration's shape now, so mistakes surface at import. */
export function definePlugin<
  const Id extends string,
  Schema extends ConfigSchema = NoConfig,
  Requires extends ServiceRefMap = {},
  Optional extends ServiceRefMap = {},
  Provides extends ServiceRefMap = {},
>(
  spec: PluginSpec<
    Id,
    Schema,
    Requires,
    Optional,
    Provides,
    v.InferOutput<Schema>,
    FullContext<Schema, Requires, Optional, Provides>,
    InitContext<Schema, Requires, Optional>,
    NoInfer<ProvidedInit<Provides>>
  >,
): Plugin<
  Id,
  Schema,
  Requires,
  Optional,
  Provides,
  v.InferOutput<Schema>,
  FullContext<Schema, Requires, Optional, Provides>,
  InitContext<Schema, Requires, Optional>,
  ProvidedInit<Provides>
> {
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
  return Object.freeze({ ...spec, kind: 'empulse.plugin' as const });
}

/** A plugin together with the operator's options for it. */
export interface ConfiguredPlugin {
  readonly plugin: Plugin;
  readonly options: unknown;
}

/** Pairs a plugin with typed options, for `defineConfig({ plugins: [...] })`. */
export function configure<P extends Plugin>(
  plugin: P,
  options: P extends Plugin<string, infer S> ? v.InferInput<S> : never,
): ConfiguredPlugin {
  return { plugin: plugin as unknown as Plugin, options };
}
