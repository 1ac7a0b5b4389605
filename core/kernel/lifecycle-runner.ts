/**
 * Runs the plugins' lifecycle: `init` in dependency order (each within its timeout), `start`
 * in the same order, and at shutdown `stop` then the `onStop` clean-ups in reverse order. A
 * failure at any step throws a BootError naming the plugin; the kernel then rolls back through
 * its one path, `stop()`, which calls `stopAll`.
 */
import type { Logger } from '../logging/logger.ts';
import type { HookBus } from '../plugin/hook-bus.ts';
import { bindHook } from '../plugin/hooks.ts';
import type { HealthRegistry } from '../health/health-registry.ts';
import { BootError } from './boot-error.ts';
import type { PluginSlot } from './plugin-context.ts';
import type { ServiceRegistry } from './service-registry.ts';
import { withTimeout } from './with-timeout.ts';

export const DEFAULT_TIMEOUTS = { init: 10_000, start: 10_000, stop: 5_000 } as const;

export interface LifecycleDeps {
  readonly services: ServiceRegistry;
  readonly health: HealthRegistry;
  readonly hooks: HookBus;
  readonly logger: Logger;
}

export class LifecycleRunner {
  readonly #deps: LifecycleDeps;
  /** Plugins whose `init` ran, in order: the ones `stopAll` stops. */
  #initialised: PluginSlot[] = [];

  constructor(deps: LifecycleDeps) {
    this.#deps = deps;
  }

  /** Initialises every plugin; on a failure, stops the ones before it and throws a BootError. */
  async initAll(slots: readonly PluginSlot[]): Promise<void> {
    for (const slot of slots) {
      const { plugin } = slot;
      try {
        const ms = plugin.timeouts.init ?? DEFAULT_TIMEOUTS.init;
        this.#initialised.push(slot); // its onStop clean-ups run even when init fails half-way
        const result = plugin.init ? await withTimeout(() => plugin.init!(slot.initContext), ms, `plugin "${plugin.id}" init`) : undefined;
        for (const [name, ref] of Object.entries(plugin.provides)) {
          const impl = result?.services?.[name];
          if (impl === undefined) throw new Error(`init did not return the service "${name}" it provides`);
          this.#deps.services.provide(ref.id, impl);
        }
        slot.initialised(result?.state);
      } catch (err) {
        throw new BootError([{ plugin: plugin.id, message: `init failed: ${messageOf(err)}` }], err);
      }
      for (const [name, check] of Object.entries(plugin.health)) {
        this.#deps.health.add(name, (signal) => check(slot.context, signal));
      }
      for (const sub of plugin.hooks?.(bindHook) ?? []) {
        this.#deps.hooks.subscribe(sub.hook.id, plugin.id, (payload) => sub.handler(payload, slot.context));
      }
    }
    // Extension points are for plugins that initialise; from here on the kernel serves.
    for (const slot of slots) slot.closeExtensionPoints();
  }

  async startAll(): Promise<void> {
    for (const { plugin, context } of this.#initialised) {
      if (!plugin.start) continue;
      try {
        await withTimeout(() => plugin.start!(context), plugin.timeouts.start ?? DEFAULT_TIMEOUTS.start, `plugin "${plugin.id}" start`);
      } catch (err) {
        throw new BootError([{ plugin: plugin.id, message: `start failed: ${messageOf(err)}` }], err);
      }
    }
  }

  /** Stops every initialised plugin in reverse order: `stop`, then its clean-ups, last first. */
  async stopAll(): Promise<void> {
    const slots = this.#initialised.reverse();
    this.#initialised = [];
    for (const slot of slots) {
      const { plugin } = slot;
      const ms = plugin.timeouts.stop ?? DEFAULT_TIMEOUTS.stop;
      // A plugin whose init failed gets no `stop` (it has no state), but its clean-ups run.
      const stop = plugin.stop && slot.isInitialised ? [() => plugin.stop!(slot.context)] : [];
      const steps = [...stop, ...slot.takeCleanups()];
      for (const step of steps) {
        try {
          await withTimeout(step, ms, `plugin "${plugin.id}" stop`);
        } catch (err) {
          this.#deps.logger.error({ err, plugin: plugin.id }, 'plugin stop failed');
        }
      }
    }
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
