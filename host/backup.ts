/**
 * `empulse backup <file>` and `empulse restore <file>` for the embedded database (PGlite under
 * DATA_DIR/db). PostgreSQL deployments use pg_dump and pg_restore (README, "Backups").
 *
 * A backup is PGlite's own image of its data directory (a gzip'd tar), taken after a CHECKPOINT
 * while no statement runs (PGlite's exclusive section), so it is a crash-consistent copy even
 * while the server serves: a transaction open at that moment is simply absent from it.
 * It holds every table, so the file is written with mode 0600.
 */
import { closeSync, existsSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Database } from '../core/index.ts';

/** The part of PGlite's API a backup needs (kept structural: the host does not import PGlite). */
interface PgliteImage {
  dumpDataDir(compression: 'gzip'): Promise<Blob>;
  runExclusive<T>(fn: () => Promise<T>): Promise<T>;
}

/** Gzip's magic bytes: what PGlite's dumps (and nothing a user mistakes for one) start with. */
const GZIP = [0x1f, 0x8b];

export async function dumpEmbedded(database: Database): Promise<Uint8Array> {
  if (database.driver !== 'pglite') throw new Error('backup is for the embedded database; back up PostgreSQL with pg_dump (see the README)');
  const connection = database.orm.em.getConnection() as unknown as { getNativeClient(): Promise<PgliteImage> };
  const pglite = await connection.getNativeClient();
  // Writes dirty pages out, so the image needs little WAL replay when it is opened.
  await database.orm.em.getConnection().execute('checkpoint');
  const image = await pglite.runExclusive(() => pglite.dumpDataDir('gzip'));
  return new Uint8Array(await image.arrayBuffer());
}

/**
 * Writes to a new temporary file beside `file` (created here, mode 0600, never an existing one),
 * then links it under its name, which fails if `file` appeared meanwhile: a crash never leaves a
 * half backup under its name, and a backup never replaces a file.
 */
export function writeBackupFile(file: string, bytes: Uint8Array): void {
  mkdirSync(dirname(file), { recursive: true });
  const partial = `${file}.${process.pid}-${Date.now()}.partial`;
  const fd = openSync(partial, 'wx', 0o600);
  try {
    try {
      writeSync(fd, bytes);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    linkSync(partial, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new Error(`${file} exists: choose a new name (a backup never overwrites a file)`, { cause: err });
    throw err;
  } finally {
    rmSync(partial, { force: true });
  }
}

/** Reads a backup, refusing what is not one before anything is touched. */
export function readBackupFile(file: string): Uint8Array<ArrayBuffer> {
  if (!existsSync(file)) throw new Error(`no backup at ${file}`);
  if (!statSync(file).isFile()) throw new Error(`${file} is not a file`);
  const bytes = new Uint8Array(readFileSync(file));
  if (bytes.length < 2 || bytes[0] !== GZIP[0] || bytes[1] !== GZIP[1]) {
    throw new Error(`${file} is not an Empulse backup (made by "empulse backup": a gzip'd image of the embedded database)`);
  }
  return bytes;
}

/**
 * Replaces the embedded database at `dbDir` with the backup. The backup is first opened in a
 * directory beside it (which proves it is readable); only then is the current database moved
 * aside (kept, named in the answer) and the restored one moved in.
 */
export async function restoreEmbedded(dbDir: string, bytes: Uint8Array<ArrayBuffer>): Promise<{ readonly keptAt: string | undefined }> {
  const { PGlite } = await import('@electric-sql/pglite');
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const incoming = `${dbDir}.restoring-${stamp}`;
  rmSync(incoming, { recursive: true, force: true });
  try {
    const pglite = await PGlite.create({ dataDir: incoming, loadDataDir: new Blob([bytes]) });
    try {
      await pglite.query('select 1');
    } finally {
      await pglite.close();
    }
  } catch (err) {
    rmSync(incoming, { recursive: true, force: true });
    throw new Error(`the backup could not be opened (${err instanceof Error ? err.message : String(err)}); nothing was changed`, { cause: err });
  }
  let keptAt: string | undefined;
  try {
    if (existsSync(dbDir)) {
      keptAt = `${dbDir}.before-restore-${stamp}`;
      renameSync(dbDir, keptAt);
    }
    renameSync(incoming, dbDir);
  } catch (err) {
    // Put the current database back where it was; drop the half of the swap that happened.
    if (keptAt && !existsSync(dbDir) && existsSync(keptAt)) renameSync(keptAt, dbDir);
    rmSync(incoming, { recursive: true, force: true });
    throw new Error(`the restored database could not be moved into place (${err instanceof Error ? err.message : String(err)}); the current one is unchanged`, { cause: err });
  }
  return { keptAt };
}
