/**
 * The core must stay runtime-agnostic (it also runs on Deno): no Node built-ins, no `process`,
 * `Buffer` or `__dirname`, no Deno globals. Files, processes, signals and env reads live in host/.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = join(import.meta.dirname, '..');
const FORBIDDEN: readonly [RegExp, string][] = [
  [/from\s+['"]node:/, 'imports a node: built-in'],
  [/from\s+['"](fs|path|os|child_process|net|http|https|crypto|stream|worker_threads|url|util)['"]/, 'imports a Node built-in'],
  [/\brequire\(/, 'uses require()'],
  [/\bprocess\.(env|exit|on|cwd|argv|stdout|stderr)\b/, 'uses process'],
  [/\bBuffer\./, 'uses Buffer'],
  [/\b__dirname\b|\b__filename\b/, 'uses __dirname/__filename'],
  [/\bDeno\./, 'uses a Deno global'],
];

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

describe('core portability', () => {
  for (const folder of ['core', 'migrations']) {
    it(`${folder}/ uses no Node-only or Deno-only APIs`, () => {
      const offences: string[] = [];
      for (const file of tsFiles(join(root, folder))) {
        const lines = readFileSync(file, 'utf8').split('\n');
        lines.forEach((line, i) => {
          if (/^\s*(\/\/|\*|\/\*)/.test(line)) return;
          for (const [pattern, what] of FORBIDDEN) {
            if (pattern.test(line)) offences.push(`${relative(root, file)}:${i + 1} ${what}: ${line.trim()}`);
          }
        });
      }
      assert.deepEqual(offences, []);
    });
  }

  it('no plugin imports another plugin, and the core imports no plugin', () => {
    const offences: string[] = [];
    for (const file of tsFiles(join(root, 'core'))) {
      if (/from\s+['"][./]*plugins\//.test(readFileSync(file, 'utf8'))) offences.push(relative(root, file));
    }
    for (const plugin of readdirSync(join(root, 'plugins'))) {
      for (const file of tsFiles(join(root, 'plugins', plugin))) {
        for (const m of readFileSync(file, 'utf8').matchAll(/from\s+['"]([^'"]+)['"]/g)) {
          const spec = m[1]!;
          if (!spec.startsWith('.')) continue;
          const target = relative(join(root, 'plugins'), resolve(dirname(file), spec));
          if (!target.startsWith('..') && !target.startsWith(`${plugin}/`)) offences.push(`${relative(root, file)} imports ${spec}`);
        }
      }
    }
    assert.deepEqual(offences, []);
  });
});
