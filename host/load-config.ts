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
  const mod = (await import(pathToFileURL(file).href)) as { default?: ConfigInput };
  if (!mod.default) {
    throw new BootError([{ path: file, message: 'must default-export defineConfig({ plugins: [...] })' }]);
  }
  return resolveConfig(mod.default, env);
}
