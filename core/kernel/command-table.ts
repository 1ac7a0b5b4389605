/**
 * The CLI commands plugins add (`users set-role`, `audit verify`): collected at plan time, so a
 * command that two plugins claim, or that shadows one of the host's, is a boot error naming both.
 */
import type { Plugin, PluginCommand, AnyPluginContext } from '../plugin/define-plugin.ts';
import type { BootProblem } from './boot-error.ts';

/** The host's own commands: a plugin may not take their first word. */
export const HOST_COMMANDS: ReadonlySet<string> = new Set(['start', 'migrate', 'plugins', 'check', 'secrets', 'backup', 'restore', 'help']);

export interface CommandEntry {
  /** The command's words, e.g. `users set-role`. */
  readonly name: string;
  readonly plugin: string;
  readonly command: PluginCommand<AnyPluginContext>;
}

export function collectCommands(plugins: readonly Plugin[]): { commands: readonly CommandEntry[]; problems: BootProblem[] } {
  const byName = new Map<string, CommandEntry>();
  const problems: BootProblem[] = [];
  for (const plugin of plugins) {
    for (const [name, command] of Object.entries(plugin.commands)) {
      const first = name.split(' ')[0]!;
      const taken = byName.get(name);
      if (HOST_COMMANDS.has(first)) {
        problems.push({ plugin: plugin.id, path: `commands.${name}`, message: `"${first}" is one of the host's own commands` });
      } else if (taken) {
        problems.push({ plugin: plugin.id, path: `commands.${name}`, message: `plugin "${taken.plugin}" already provides the command "${name}"` });
      } else {
        byName.set(name, { name, plugin: plugin.id, command });
      }
    }
  }
  return { commands: [...byName.values()].sort((a, b) => a.name.localeCompare(b.name)), problems };
}

/** The command named by the longest run of leading words, and the arguments after it. */
export function matchCommand(commands: readonly CommandEntry[], words: readonly string[]): { entry: CommandEntry; args: readonly string[] } | undefined {
  for (let n = words.length; n > 0; n--) {
    const entry = commands.find((c) => c.name === words.slice(0, n).join(' '));
    if (entry) return { entry, args: words.slice(n) };
  }
  return undefined;
}
