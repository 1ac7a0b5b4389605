/**
 * The conformance suite catches what it is meant to: run (in a child process, as its failures
 * are the point) for plugins that each break one rule, exactly the matching checks fail.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { projectPath, projectRoot } from './support/paths.ts';

/** `suite → check → passed`, from the TAP report of the child's run. */
async function runSuites(file: string): Promise<Map<string, Map<string, boolean>>> {
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT; // otherwise the child reports to this runner instead of printing TAP
  const child = spawn(process.execPath, ['--test', '--test-reporter=tap', file], { cwd: projectRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  await new Promise((resolve) => child.once('close', resolve));
  const suites = new Map<string, Map<string, boolean>>();
  let current: Map<string, boolean> | undefined;
  for (const line of out.split('\n')) {
    const suite = /^# Subtest: plugin "([^"]+)" conformance$/.exec(line);
    if (suite) suites.set(suite[1]!, (current = new Map()));
    const check = /^ {4}(not ok|ok) \d+ - (.*?)(?: # SKIP.*)?$/.exec(line);
    if (check && current) current.set(check[2]!, check[1] === 'ok');
  }
  assert.ok(suites.size > 0, `no conformance suites in the child's report:\n${out}`);
  return suites;
}

const failing = (checks: Map<string, boolean> | undefined): string[] =>
  [...(checks ?? new Map<string, boolean>())].filter(([, ok]) => !ok).map(([name]) => name.split(/[;(]/)[0]!.trim());

describe('conformance suite', () => {
  it('fails exactly the checks each nonconforming plugin breaks', async () => {
    const suites = await runSuites(projectPath('test/support/nonconforming-plugins.ts'));
    // Seven checks each, six for a plugin without entities (no derived schema to compare).
    for (const [name, checks] of suites) {
      const hasSchemaCheck = [...checks.keys()].some((check) => check.startsWith('derives from its entities'));
      assert.equal(checks.size, hasSchemaCheck ? 7 : 6, `suite ${name} declares every check`);
    }
    // An unprefixed table that its down migration leaves behind.
    assert.deepEqual(failing(suites.get('messy')), [
      'migrates up, down and up again cleanly',
      'prefixes its tables and migrations with its id, and keeps its routes under its prefixes',
    ]);
    // An entity that disagrees with its migration (varchar(50) against text).
    assert.deepEqual(failing(suites.get('drift')), ['derives from its entities the schema its migrations create']);
    // A table its migrations create that `empulse plugins` would not list, and one listed that nothing creates.
    for (const name of ['hidden', 'phantom']) {
      assert.deepEqual(failing(suites.get(name)), ['prefixes its tables and migrations with its id, and keeps its routes under its prefixes'], name);
    }
    // A stop that outlasts its own stop timeout.
    assert.deepEqual(failing(suites.get('sluggish')), ['stops within its stop timeout']);
    // One service object shared by two kernels.
    assert.deepEqual(failing(suites.get('singleton')), ['runs in two kernels side by side']);
    // A dependency nothing uses.
    assert.deepEqual(failing(suites.get('loner')), ['boots with only the given dependencies']);
  });
});
