/**
 * Builds the context object a plugin's code receives. Services are looked up by ref id when
 * accessed, so a plugin's own provided services appear as soon as its `init` returned.
 */
import type { Database } from '../database/database.ts';
import type { Logger } from '../logging/logger.ts';
import type { Env, Plugin, PluginContext, RuntimeMode } from '../plugin/define-plugin.ts';
import type { EmitOptions, HookRef } from '../plugin/hooks.ts';

export interface ContextDeps {
  readonly config: Readonly<Record<string, unknown>>;
  readonly logger: Logger;
  readonly mode: RuntimeMode;
  readonly env: Env;
  /** Service implementations by service id. */
  readonly services: ReadonlyMap<string, unknown>;
  /** Undefined in a dry run (listing routes without a database). */
  readonly db: Database | undefined;
  readonly emit: (hook: string, payload: unknown, options?: EmitOptions) => void;
  readonly shutdownSignal: AbortSignal;
}

export type AnyPluginContext = PluginContext<Readonly<Record<string, unknown>>, Readonly<Record<string, unknown>>>;

export function createPluginContext(plugin: Plugin, deps: ContextDeps): AnyPluginContext {
  const services: Record<string, unknown> = {};
  const refs = [
    ...Object.entries(plugin.requires ?? {}).map(([name, ref]) => [name, ref.id, true] as const),
    ...Object.entries(plugin.optional ?? {}).map(([name, ref]) => [name, ref.id, false] as const),
    ...Object.entries(plugin.provides ?? {}).map(([name, ref]) => [name, ref.id, true] as const),
  ];
  for (const [name, id, required] of refs) {
    Object.defineProperty(services, name, {
      enumerable: true,
      get: () => {
        const impl = deps.services.get(id);
        if (impl === undefined && required) {
          throw new Error(`plugin "${plugin.id}": service "${id}" is not available yet (used during registration or before init?)`);
        }
        return impl;
      },
    });
  }
  const logger = deps.logger.child({ plugin: plugin.id });
  return {
    pluginId: plugin.id,
    config: deps.config,
    services,
    logger,
    mode: deps.mode,
    env: deps.env,
    get db(): Database {
      if (!deps.db) throw new Error(`plugin "${plugin.id}": the database is not open (dry run)`);
      return deps.db;
    },
    emit: <H extends HookRef<unknown>>(hook: H, payload: unknown, options?: EmitOptions) => deps.emit(hook.id, payload, options),
    shutdownSignal: deps.shutdownSignal,
  };
}
