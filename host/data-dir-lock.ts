/**
 * One process per embedded database: PGlite opened twice on one directory silently loses
 * writes, so the host takes a pid lock file in DATA_DIR and refuses a second live owner.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BootError } from '../core/index.ts';

export function lockDataDir(dataDir: string): () => void {
  const file = join(dataDir, 'empulse.pid');
  try {
    writeFileSync(file, String(process.pid), { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const owner = Number(readFileSync(file, 'utf8'));
    if (Number.isInteger(owner) && owner !== process.pid && isAlive(owner)) {
      throw new BootError([
        { path: 'DATA_DIR', message: `${dataDir} is in use by another Empulse process (pid ${owner}); stop it or choose another DATA_DIR` },
      ]);
    }
    writeFileSync(file, String(process.pid)); // stale lock of a process that is gone
  }
  return () => rmSync(file, { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
