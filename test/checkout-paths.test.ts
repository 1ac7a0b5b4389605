/**
 * A fresh clone in any directory must pass: no tracked file may name the absolute path of the
 * checkout it sits in (tests resolve project files from `import.meta`, see support/paths.ts).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from './support/paths.ts';

describe('checkout paths', () => {
  it('no tracked file names the absolute path of this checkout', () => {
    const root = projectRoot.replace(/\/$/, '');
    const files = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' }).split('\0').filter(Boolean);
    assert.ok(files.length > 50, `git lists the project's files (${files.length})`);
    const offenders = files.filter((file) => {
      const path = join(root, file);
      if (!statSync(path, { throwIfNoEntry: false })?.isFile()) return false;
      return readFileSync(path, 'utf8').includes(`${root}/`);
    });
    assert.deepEqual(offenders, [], `these files name ${root}/; resolve paths from import.meta instead`);
  });
});
