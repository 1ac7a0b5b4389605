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

  it('the core imports no plugin; plugins import the core only through its public API and each other only through contract files', () => {
    const offences: string[] = [];
    for (const folder of ['core', 'migrations']) {
      for (const file of tsFiles(join(root, folder))) {
        for (const spec of importsOf(file)) {
          const target = relative(root, resolve(dirname(file), spec));
          if (target.startsWith('plugins/') || target.startsWith('examples/')) offences.push(`${relative(root, file)} imports ${spec}`);
        }
      }
    }
    for (const base of ['plugins', 'examples']) {
      for (const plugin of readdirSync(join(root, base))) {
        for (const file of tsFiles(join(root, base, plugin))) {
          if (file.endsWith('.test.ts')) continue; // a plugin's tests may assemble a kernel of several plugins
          for (const spec of importsOf(file)) {
            const target = relative(root, resolve(dirname(file), spec));
            const own = target.startsWith(`${base}/${plugin}/`);
            const otherContract = /^plugins\/[a-z0-9-]+\/contract\.ts$/.test(target);
            const corePublic = target === 'core/index.ts';
            if (!own && !otherContract && !corePublic) offences.push(`${relative(root, file)} imports ${spec}`);
          }
        }
      }
    }
    assert.deepEqual(offences, []);
  });

  it('contract files hold declarations only: they import nothing but the core API and other contracts', () => {
    const offences: string[] = [];
    for (const plugin of readdirSync(join(root, 'plugins'))) {
      const file = join(root, 'plugins', plugin, 'contract.ts');
      let specs: string[];
      try {
        specs = importsOf(file);
      } catch {
        continue; // a plugin without a contract offers nothing to others
      }
      for (const spec of specs) {
        const target = relative(root, resolve(dirname(file), spec));
        const allowed = target === 'core/index.ts' || /^plugins\/[a-z0-9-]+\/contract\.ts$/.test(target);
        if (spec.startsWith('.') && !allowed) offences.push(`${relative(root, file)} imports ${spec}`);
      }
    }
    assert.deepEqual(offences, []);
  });
});

/** Relative import specifiers of a file (`from '…'` and `import('…')`). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from\s+|import\(\s*)['"]([^'"]+)['"]/g)].map((m) => m[1]!).filter((spec) => spec.startsWith('.'));
}
