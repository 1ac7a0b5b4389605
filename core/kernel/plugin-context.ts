/**
 * One plugin's place in one kernel: its context (what its code sees), its state once `init`
 * returned, the clean-ups it registered and the extension points it opened. Nothing here is
 * shared between kernels, so two kernels in one process never see each other's plugins.
 */
import type { Database } from '../database/database.ts';
import type { Logger } from '../logging/logger.ts';
import type { AnyInitContext, AnyPluginContext, Env, Plugin, RuntimeMode } from '../plugin/define-plugin.ts';
import { ExtensionPoint } from '../plugin/extension-point.ts';
import type { EmitOptions, HookRef } from '../plugin/hooks.ts';
import type { ServiceRegistry } from './service-registry.ts';
import type { CursorCodec } from '../http/cursor-codec.ts';

export interface ContextDeps {
  readonly config: Readonly<Record<string, unknown>>;
  readonly logger: Logger;
  readonly mode: RuntimeMode;
  readonly env: Env;
  readonly services: ServiceRegistry;
  /** Undefined in a dry run (listing routes without a database). */
  readonly db: () => Database | undefined;
  readonly emit: (hook: string, payload: unknown, options?: EmitOptions) => void;
  readonly shutdownSignal: AbortSignal;
  /** The kernel's cursor codec (one per kernel, its key loaded on first use). */
  readonly cursors: CursorCodec;
}

type Cleanup = () => void | Promise<void>;

const NO_STATE: unique symbol = Symbol('no state yet');

export class PluginSlot {
  readonly plugin: Plugin;
  readonly config: Readonly<Record<string, unknown>>;
  readonly context: AnyPluginContext;
  readonly #cleanups: Cleanup[] = [];
  readonly #extensionPoints: ExtensionPoint<unknown>[] = [];
  #state: unknown = NO_STATE;

  constructor(plugin: Plugin, deps: ContextDeps) {
    this.plugin = plugin;
    this.config = deps.config;
    this.context = this.#createContext(deps);
  }

  /** Records what `init` returned; from now on `ctx.state` is readable. */
  initialised(state: unknown): void {
    this.#state = state;
  }

  get isInitialised(): boolean {
    return this.#state !== NO_STATE;
  }

  /** The clean-ups registered with `onStop`, last first. */
  takeCleanups(): Cleanup[] {
    return this.#cleanups.splice(0).reverse();
  }

  closeExtensionPoints(): void {
    for (const point of this.#extensionPoints) point.close();
  }

  /** The context `init` receives: the same object, typed without state. */
  get initContext(): AnyInitContext {
    return this.context;
  }

  #createContext(deps: ContextDeps): AnyPluginContext {
    const plugin = this.plugin;
    const services: Record<string, unknown> = {};
    const refs = [
      ...Object.entries(plugin.requires).map(([name, ref]) => [name, ref.id, true] as const),
      ...Object.entries(plugin.optional).map(([name, ref]) => [name, ref.id, false] as const),
      ...Object.entries(plugin.provides).map(([name, ref]) => [name, ref.id, true] as const),
    ];
    for (const [name, id, required] of refs) {
      Object.defineProperty(services, name, {
        enumerable: true,
        get: () => {
          const impl = deps.services.find(id);
          if (impl === undefined && required) {
            throw new Error(`plugin "${plugin.id}": service "${id}" is not available yet (used during registration or before init?)`);
          }
          return impl;
        },
      });
    }
    const slot = this;
    return {
      pluginId: plugin.id,
      config: deps.config,
      services,
      get state(): unknown {
        if (slot.#state === NO_STATE) {
          throw new Error(`plugin "${plugin.id}": ctx.state exists once init returned (read it in handlers, hooks, checks, start and stop)`);
        }
        return slot.#state;
      },
      logger: deps.logger.child({ plugin: plugin.id }),
      mode: deps.mode,
      env: deps.env,
      get db(): Database {
        const db = deps.db();
        if (!db) throw new Error(`plugin "${plugin.id}": the database is not open (dry run)`);
        return db;
      },
      emit: <H extends HookRef<unknown>>(hook: H, payload: unknown, options?: EmitOptions) => deps.emit(hook.id, payload, options),
      shutdownSignal: deps.shutdownSignal,
      cursors: deps.cursors,
      onStop: (cleanup: Cleanup) => void slot.#cleanups.push(cleanup),
      extensionPoint: <T>(name: string): ExtensionPoint<T> => {
        const point = new ExtensionPoint<T>(`${plugin.id}.${name}`);
        slot.#extensionPoints.push(point as ExtensionPoint<unknown>);
        return point;
      },
    };
  }
}
