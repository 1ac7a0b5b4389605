/** `node host/embedded-cluster-child.ts <dir>`: PGlite's initdb into <dir>, then exit (see embedded-cluster.ts). */
import { PGlite } from '@electric-sql/pglite';

const dir = process.argv[2];
if (!dir) throw new Error('usage: embedded-cluster-child.ts <data dir>');
const pglite = await PGlite.create({ dataDir: dir });
await pglite.close();
