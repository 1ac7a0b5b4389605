/**
 * Creates the embedded database's cluster (PGlite's initdb) in a short-lived child process, on
 * the first start only. Run in the server's own process, initdb leaves a second PGlite instance's
 * WebAssembly heap and the initdb module behind, which an idle server never collects: ~750 MB of
 * RSS after a first start against ~300 MB after any later one. In a child, it all goes when the
 * child exits. Node only (the Deno host keeps creating it in process).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('./embedded-cluster-child.ts', import.meta.url));

export function createEmbeddedCluster(dbDir: string): void {
  if (existsSync(join(dbDir, 'PG_VERSION')) || existsSync(dbDir)) return; // existing: PGlite opens (or reports) it
  // Made beside it and renamed into place, so a child killed halfway never leaves a half cluster
  // that later starts would take for a database.
  const creating = `${dbDir}.creating-${process.pid}`;
  try {
    rmSync(creating, { recursive: true, force: true });
    const result = spawnSync(process.execPath, [CHILD, creating], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    if (result.status !== 0) throw new Error((result.stderr || result.error?.message || `exit ${result.status}`).trim());
    renameSync(creating, dbDir);
  } catch (err) {
    rmSync(creating, { recursive: true, force: true });
    throw new Error(`could not create the embedded database in ${dbDir}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}
