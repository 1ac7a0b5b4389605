/**
 * A PostgreSQL cluster of the test's own, made with the machine's PostgreSQL binaries (initdb,
 * pg_ctl) on a free port and a private socket directory, so a test can stop, kill and restart it
 * under load: the machine's shared server must never be stopped. As root (CI here), the binaries
 * run as the `postgres` user, since PostgreSQL refuses to run as root.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../host/testing.ts';

export interface PrivatePostgres {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  readonly url: string;
  readonly port: number;
  /** A URL for another database of this cluster. */
  urlOf(database: string): string;
  createDatabase(name: string): void;
  /** `pg_ctl stop -m fast` (clients disconnected, clean shutdown) or `immediate` (as if killed). */
  stop(mode?: 'fast' | 'immediate'): void;
  start(): void;
  /** SQL run with psql over the private socket; returns psql's unaligned output. */
  psql(sql: string, database?: string): string;
  /** Stops the cluster and deletes its files. */
  destroy(): void;
  /** The server's log (for a failing test's message). */
  log(): string;
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = postgresBinDir();
  const port = await freePort();
  const root = mkdtempSync(join(tmpdir(), 'empulse-pg-'));
  const data = join(root, 'data');
  const logFile = join(root, 'server.log');
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(root, uid, gid);
  }
  const run = (command: string, args: readonly string[]) => {
    const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', join(bin, command), ...args]] : [join(bin, command), [...args]];
    const res = spawnSync(file, argv, { encoding: 'utf8', cwd: root });
    if (res.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${res.status}): ${res.stderr || res.stdout}\n${existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-2000) : ''}`);
    return res.stdout;
  };
  run('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
  // Loopback only, the private socket directory, and fast shutdown checkpoints for the tests.
  const options = `-p ${port} -k ${root} -c listen_addresses=127.0.0.1 -c max_connections=60 -c fsync=off -c full_page_writes=off`;
  const start = () => void run('pg_ctl', ['start', '-w', '-t', '30', '-D', data, '-l', logFile, '-o', options]);
  const stop = (mode: 'fast' | 'immediate' = 'fast') => void run('pg_ctl', ['stop', '-w', '-t', '30', '-m', mode, '-D', data]);
  start();
  const psql = (sql: string, database = 'postgres') => run('psql', ['-h', root, '-p', String(port), '-U', 'postgres', '-d', database, '-XAtq', '-v', 'ON_ERROR_STOP=1', '-c', sql]);
  const urlOf = (database: string) => `postgres://postgres@127.0.0.1:${port}/${database}`;
  return {
    url: urlOf('postgres'),
    port,
    urlOf,
    createDatabase: (name) => void psql(`create database "${name}"`),
    stop,
    start,
    psql,
    destroy: () => {
      spawnSync(asRoot ? 'runuser' : join(bin, 'pg_ctl'), asRoot ? ['-u', 'postgres', '--', join(bin, 'pg_ctl'), 'stop', '-m', 'immediate', '-D', data] : ['stop', '-m', 'immediate', '-D', data], { stdio: 'ignore' });
      rmSync(root, { recursive: true, force: true });
    },
    log: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''),
  };
}

/** The newest installed PostgreSQL's bin directory (Debian: /usr/lib/postgresql/<major>/bin). */
function postgresBinDir(): string {
  const fromConfig = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  if (fromConfig.status === 0 && existsSync(join(fromConfig.stdout.trim(), 'initdb'))) return fromConfig.stdout.trim();
  const base = '/usr/lib/postgresql';
  const majors = existsSync(base) ? readdirSync(base).filter((v) => existsSync(join(base, v, 'bin', 'initdb'))) : [];
  const newest = majors.sort((a, b) => Number(b) - Number(a))[0];
  if (!newest) throw new Error('PostgreSQL server binaries (initdb, pg_ctl) not found: install the postgresql package');
  return join(base, newest, 'bin');
}
