/**
 * Orders plugins so every provider comes before its consumers, and reports every missing
 * service, duplicate and cycle at once (cycles named in full: a → b → a).
 */
import type { Plugin } from '../plugin/define-plugin.ts';
import type { BootProblem } from './boot-error.ts';

export interface GraphResult {
  /** Plugins in initialisation order (providers first; otherwise the operator's order). */
  readonly order: readonly Plugin[];
  /** Service id → id of the plugin that provides it. */
  readonly providers: ReadonlyMap<string, string>;
  /** Plugin id → ids of the plugins it depends on. */
  readonly dependencies: ReadonlyMap<string, readonly string[]>;
  readonly problems: readonly BootProblem[];
}

/** `coreServiceIds` are provided by the kernel itself and need no plugin. */
/** `given`: services set from outside the plugins (the test kit's fakes); they count as provided. */
export function resolveGraph(plugins: readonly Plugin[], kernelServiceIds: ReadonlySet<string>, given: ReadonlySet<string> = new Set()): GraphResult {
  const coreServiceIds = new Set([...kernelServiceIds, ...given]);
  const problems: BootProblem[] = [];
  const byId = new Map<string, Plugin>();
  for (const p of plugins) {
    if (byId.has(p.id)) problems.push({ plugin: p.id, message: 'is listed twice in the config' });
    else byId.set(p.id, p);
  }

  const providers = new Map<string, string>();
  for (const p of byId.values()) {
    for (const ref of Object.values(p.provides ?? {})) {
      const other = providers.get(ref.id);
      if (given.has(ref.id)) {
        problems.push({ plugin: p.id, path: `provides.${ref.id}`, message: `service "${ref.id}" is also given as a fake (services): leave one out` });
      } else if (coreServiceIds.has(ref.id)) {
        problems.push({ plugin: p.id, path: `provides.${ref.id}`, message: `service "${ref.id}" is provided by the kernel itself` });
      } else if (other !== undefined) {
        problems.push({ plugin: p.id, path: `provides.${ref.id}`, message: `service "${ref.id}" is also provided by plugin "${other}"` });
      } else {
        providers.set(ref.id, p.id);
      }
    }
  }

  const dependencies = new Map<string, string[]>();
  for (const p of byId.values()) {
    const deps = new Set<string>();
    for (const [name, ref] of Object.entries(p.requires ?? {})) {
      if (coreServiceIds.has(ref.id)) continue;
      const provider = providers.get(ref.id);
      if (provider === undefined) {
        problems.push({
          plugin: p.id,
          path: `requires.${name}`,
          message: `needs service "${ref.id}", which no enabled plugin provides: enable the plugin that provides it`,
        });
      } else if (provider !== p.id) {
        deps.add(provider);
      }
    }
    for (const ref of Object.values(p.optional ?? {})) {
      const provider = providers.get(ref.id);
      if (provider !== undefined && provider !== p.id) deps.add(provider);
    }
    dependencies.set(p.id, [...deps]);
  }

  const { order, cycles } = topologicalOrder([...byId.keys()], dependencies);
  for (const cycle of cycles) {
    problems.push({ plugin: cycle[0], message: `dependency cycle: ${cycle.join(' → ')}` });
  }
  return { order: order.map((id) => byId.get(id)!), providers, dependencies, problems };
}

/** Depth-first order that keeps the given order among independent nodes; returns every cycle found. */
function topologicalOrder(ids: readonly string[], deps: ReadonlyMap<string, readonly string[]>) {
  const order: string[] = [];
  const cycles: string[][] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];

  const visit = (id: string): void => {
    const s = state.get(id);
    if (s === 'done') return;
    if (s === 'visiting') {
      cycles.push([...stack.slice(stack.indexOf(id)), id]);
      return;
    }
    state.set(id, 'visiting');
    stack.push(id);
    for (const dep of deps.get(id) ?? []) visit(dep);
    stack.pop();
    state.set(id, 'done');
    order.push(id);
  };
  for (const id of ids) visit(id);
  return { order, cycles };
}
