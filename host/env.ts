/**
 * Reads the environment: `.env` in the working directory (when present) under the real
 * environment, which always wins. The core never reads the environment itself.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';
import type { Env } from '../core/index.ts';

export function readEnv(cwd: string, processEnv: NodeJS.ProcessEnv = process.env): Env {
  const file = resolve(cwd, '.env');
  const fromFile = existsSync(file) ? parseEnv(readFileSync(file, 'utf8')) : {};
  return Object.freeze({ ...fromFile, ...processEnv });
}
