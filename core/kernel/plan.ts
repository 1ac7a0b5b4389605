/**
 * The boot plan: every plugin's options validated and the plugins ordered by their dependencies.
 * No I/O happens here, so `empulse plugins` and `empulse check` can show problems without a
 * database, and a boot reports all configuration problems at once.
 */
import { toConfigured, type EmpulseConfig } from '../config/define-config.ts';
import { CORE_SERVICE_IDS } from '../core-services.ts';
import type { DeclaredProblem } from '../http/problem.ts';
import type { Env, RuntimeMode } from '../plugin/define-plugin.ts';
import { BootError } from './boot-error.ts';
import { resolveGraph } from './dependency-graph.ts';
import { collectProblemCodes } from './problem-registry.ts';
import { collectCommands, type CommandEntry } from './command-table.ts';
import { validatePluginConfigs, type ValidatedPlugin } from './validate-config.ts';
import { KERNEL_VERSION } from './version.ts';

export interface KernelPlan {
  /** Plugins in initialisation order, with validated options. */
  readonly plugins: readonly ValidatedPlugin[];
  readonly providers: ReadonlyMap<string, string>;
  readonly dependencies: ReadonlyMap<string, readonly string[]>;
  /** Every problem code of the core and the enabled plugins' catalogues, with its status. */
  readonly problemCodes: ReadonlyMap<string, DeclaredProblem>;
  /** The CLI commands the plugins add, by name. */
  readonly commands: readonly CommandEntry[];
}

/** `external`: service ids set from outside the plugins (the test kit's fakes), like the core's own. */
export function planKernel(config: EmpulseConfig, env: Env, mode: RuntimeMode, external: ReadonlySet<string> = new Set()): KernelPlan {
  const entries = config.plugins.map(toConfigured);
  const { validated, problems: configProblems } = validatePluginConfigs(entries, env, mode, KERNEL_VERSION);
  const graph = resolveGraph(
    entries.map((e) => e.plugin),
    CORE_SERVICE_IDS,
    external,
  );
  const codes = collectProblemCodes(entries.map((e) => e.plugin));
  const commands = collectCommands(entries.map((e) => e.plugin));
  const problems = [...configProblems, ...graph.problems, ...codes.problems, ...commands.problems];
  if (problems.length > 0) throw new BootError(problems);
  const byId = new Map(validated.map((vp) => [vp.plugin.id, vp]));
  return {
    plugins: graph.order.map((p) => byId.get(p.id)!),
    providers: graph.providers,
    dependencies: graph.dependencies,
    problemCodes: codes.codes,
    commands: commands.commands,
  };
}
