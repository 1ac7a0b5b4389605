/**
 * The routes of every plugin, collected by calling each plugin's `routes` with a recording
 * router. Conflicts (two routes matching the same requests) and routes outside a plugin's
 * prefixes are boot problems. Collection needs no database, so `describe()` can list routes
 * of a kernel that never booted.
 */
import type { BootProblem } from './boot-error.ts';
import { createPluginRouter, routeKey, type RouteDefinition } from '../http/plugin-router.ts';
import type { PluginSlot } from './plugin-context.ts';

export interface CollectedRoutes {
  readonly routes: readonly RouteDefinition[];
  readonly problems: readonly BootProblem[];
}

export function collectRoutes(slots: readonly PluginSlot[]): CollectedRoutes {
  const routes: RouteDefinition[] = [];
  const problems: BootProblem[] = [];
  const owners = new Map<string, RouteDefinition>();
  for (const slot of slots) {
    const { plugin } = slot;
    if (!plugin.routes) continue;
    const router = createPluginRouter(
      plugin.id,
      plugin.prefixes,
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
    plugin.routes(router, slot.context);
  }
  return { routes, problems };
}
