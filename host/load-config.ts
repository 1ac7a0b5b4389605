/** Loads the operator's `empulse.config.ts` (or the file named by `EMPULSE_CONFIG`). */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BootError, resolveConfig, type ConfigInput, type EmpulseConfig, type Env } from '../core/index.ts';

export async function loadConfig(cwd: string, env: Env): Promise<EmpulseConfig> {
  const file = resolve(cwd, env.EMPULSE_CONFIG || 'empulse.config.ts');
  if (!existsSync(file)) {
    throw new BootError([{ path: 'EMPULSE_CONFIG', message: `config file ${file} does not exist` }]);
  }
  let mod: { default?: ConfigInput };
  try {
    mod = (await import(pathToFileURL(file).href)) as { default?: ConfigInput };
  } catch (err) {
    throw new BootError([{ path: file, message: whyNotLoaded(err, file) }], err);
  }
  if (!mod.default) {
    throw new BootError([{ path: file, message: 'must default-export defineConfig({ plugins: [...] })' }]);
  }
  return resolveConfig(mod.default, env);
}

/**
 * What went wrong loading the config, with the line when Node knows it: a syntax error's message
 * alone ("Expected ',', got ')'") names neither the file nor the place. Node puts
 * `file:///…/empulse.config.ts:<line>`, the source line and a caret at the top of the stack.
 */
function whyNotLoaded(err: unknown, file: string): string {
  if (!(err instanceof Error)) return `cannot be loaded: ${String(err)}`;
  const [first = '', ...rest] = (err.stack ?? '').split('\n');
  const where = /^file:\/\/.*:(\d+)$/.exec(first);
  if (err instanceof SyntaxError && where && pathToFileURL(file).href === first.slice(0, first.lastIndexOf(':'))) {
    // The frame ends with the caret under the error; the line above it is the faulty one.
    const caret = rest.findIndex((line) => /^\s*\^+\s*$/.test(line));
    const frame = caret > 0 ? `\n      ${rest[caret - 1]}\n      ${rest[caret]}` : '';
    return `syntax error at line ${where[1]}: ${err.message}${frame}`;
  }
  return `cannot be loaded: ${err.message}`;
}
