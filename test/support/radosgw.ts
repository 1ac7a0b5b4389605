/**
 * A real, throwaway S3 peer for tests: Ceph's radosgw on a one-node cluster (one monitor, one
 * memstore OSD) in a fresh temporary directory. Unlike s3rver it checks SigV4 signatures, presigned
 * URL expiry and multipart part sizes (ARCHITECTURE.md, "A real S3 peer").
 *
 * Needs Debian's `radosgw ceph-mon ceph-osd ceph-common` (`bash test/support/radosgw/install.sh`;
 * CI runs it before `npm test`) and root. Everything lives in the temp directory (config, monitor
 * store, OSD data, run and log files: nothing under /etc/ceph or /var/lib/ceph), every daemon
 * listens on 127.0.0.1 only, and each start has its own fsid, ports and directory, so several test
 * files can run peers at once. Ready in ~0.8 s (~2 s with four starting at once); ~130 MB of
 * memory idle, plus what the tests store (memstore keeps objects in RAM: ~630 MB during a 250 MiB
 * upload). If the test process dies without `stop()`, a watchdog removes the peer within a second.
 * EMPULSE_RADOSGW_DEBUG=1 prints the steps of a start with their times.
 *
 *   const s3 = await startRadosgw();
 *   const client = new S3Client({ endpoint: s3.endpoint, region: s3.region, forcePathStyle: true,
 *     credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } });
 *   ...
 *   await s3.stop();
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { accessSync, appendFileSync, closeSync, constants, openSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { CreateBucketCommand, DeleteBucketCommand, S3Client } from '@aws-sdk/client-s3';

export interface Radosgw {
  /** `http://127.0.0.1:<port>`: use with `forcePathStyle: true`. */
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** `us-east-1`; radosgw accepts any region in the signature (`auto`, as for R2, too). */
  region: string;
  /** Kills every daemon of this peer, waits for them to exit and removes the temp directory. */
  stop(): Promise<void>;
  /** Resident memory of this peer's daemons (monitor, OSD, radosgw) in bytes, for diagnostics. */
  rssBytes(): number;
  /** Kills the S3 gateway alone (SIGKILL; the cluster and what it stores stay): the store is down… */
  stopGateway(): Promise<void>;
  /** …and starts it again on the same port, resolving once it listens. */
  startGateway(): Promise<void>;
}

/**
 * An S3 client of the peer (path-style, checksums only when required: with WHEN_SUPPORTED the SDK
 * sends a stream body aws-chunked, and radosgw 16 answers 411). Other credentials test refusals.
 */
export function peerClient(
  peer: Pick<Radosgw, 'endpoint' | 'region' | 'accessKeyId' | 'secretAccessKey'>,
  credentials: { accessKeyId: string; secretAccessKey: string } = peer,
  maxAttempts?: number,
): S3Client {
  return new S3Client({
    endpoint: peer.endpoint,
    region: peer.region,
    forcePathStyle: true,
    credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey },
    ...(maxAttempts !== undefined && { maxAttempts }),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** The storage plugin's options for the `s3` driver on this peer's `bucket` (path-style). */
export function s3StorageOptions(peer: Pick<Radosgw, 'endpoint' | 'region' | 'accessKeyId' | 'secretAccessKey'>, bucket: string) {
  return {
    driver: 's3' as const,
    s3Endpoint: peer.endpoint,
    s3ForcePathStyle: true,
    awsRegion: peer.region,
    awsAccessKeyId: peer.accessKeyId,
    awsSecretAccessKey: peer.secretAccessKey,
    awsBucket: bucket,
  };
}

export interface RadosgwOptions {
  /**
   * Capacity the memstore OSD reports (bytes). It is a cap, not an allocation: RAM grows only with
   * what is stored. Default 1 GiB, room for a few ~250 MiB uploads (deleted data is reclaimed by
   * radosgw's garbage collector within seconds here).
   */
  memstoreBytes?: number;
  /** Deadline for the whole start, default 60 s. */
  timeoutMs?: number;
}

export const INSTALL_HINT = 'run `bash test/support/radosgw/install.sh` (as root; CI runs it before `npm test`)';

const REGION = 'us-east-1';
const BINARIES = ['monmaptool', 'ceph-mon', 'ceph-osd', 'radosgw', 'radosgw-admin'] as const;
// Debian's python3-rados (from ceph-common) is for the system Python, not a pyenv or venv one.
const PYTHON = '/usr/bin/python3';
// The pools radosgw (Pacific) creates for its default zone. It creates them one at a time, each
// costing several monitor rounds; created here in parallel before radosgw starts, they cost one.
const RGW_POOLS = [
  '.rgw.root',
  'default.rgw.control',
  'default.rgw.meta',
  'default.rgw.log',
  'default.rgw.buckets.index',
  'default.rgw.buckets.data',
  'default.rgw.buckets.non-ec',
];

/**
 * Monitor commands through librados in one Python process (the `ceph` CLI costs ~0.2 s of CPU per
 * command). argv: config, then JSON `[[command, ...], ...]`: the groups run in parallel, the
 * commands of a group in order. Prints each command's output as JSON `[[output, ...], ...]`.
 */
const MON_COMMANDS = `
import json, sys, threading
import rados
conf, groups = sys.argv[1], json.loads(sys.argv[2])
cluster = rados.Rados(conffile=conf)
cluster.connect(timeout=20)
outputs, errors = [[None] * len(g) for g in groups], []
def run(i):
    for j, command in enumerate(groups[i]):
        ret, out, status = cluster.mon_command(json.dumps(command), b'', timeout=30)
        if ret != 0:
            errors.append('%s: error %d %s' % (json.dumps(command), ret, status))
            return
        outputs[i][j] = out.decode()
threads = [threading.Thread(target=run, args=(i,)) for i in range(len(groups))]
for t in threads: t.start()
for t in threads: t.join()
cluster.shutdown()
if errors:
    sys.exit('\\n'.join(errors))
print(json.dumps(outputs))
`;

/**
 * Watches the test process from outside: when it dies without `stop()` (SIGKILL, a crash, Ctrl-C),
 * kills the daemons listed in <dir>/run/daemons (only those still running from <dir>) and removes
 * <dir>. It exits by itself once `stop()` has removed <dir>.
 */
const WATCHDOG = `
parent=$1 dir=$2
while kill -0 "$parent" 2>/dev/null && [ -d "$dir" ]; do sleep 1; done
[ -d "$dir" ] || exit 0
while read -r pid; do
  case "$(tr '\\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null)" in *"$dir/"*) kill -9 -- "-$pid" 2>/dev/null;; esac
done < "$dir/run/daemons"
rm -rf -- "$dir"
`;

/** Every daemon still running, so a test process that exits without `stop()` takes them along. */
const live = new Set<Peer>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const peer of live) {
      for (const child of [...peer.children, ...peer.commands]) killGroup(child, 'SIGKILL');
      try {
        rmSync(peer.dir, { recursive: true, force: true });
      } catch {
        continue; // a dying daemon still writing: the watchdog removes the directory
      }
      if (peer.watchdog) killGroup(peer.watchdog, 'SIGKILL');
    }
  });
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal); // a daemon (detached) leads its own process group
  } catch {
    try {
      child.kill(signal); // a one-shot command shares ours
    } catch {
      // already gone
    }
  }
}

function findBinary(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** A free TCP port on 127.0.0.1 below the ephemeral range (so no outgoing connection holds it). */
async function freePort(taken: Set<number>): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = randomInt(20_000, 32_000);
    if (taken.has(port)) continue;
    const ok = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen({ host: '127.0.0.1', port, exclusive: true }, () => server.close(() => resolve(true)));
    });
    if (ok) {
      taken.add(port);
      return port;
    }
  }
  throw new Error('radosgw: found no free port on 127.0.0.1');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class StartError extends Error {}

/**
 * Starts a fresh peer; retries (fresh directory and ports) when a start fails, e.g. a port taken
 * between picking and binding it. Throws, with the daemons' log tails, when all attempts fail.
 */
export async function startRadosgw(options: RadosgwOptions = {}): Promise<Radosgw> {
  const bins = Object.fromEntries(BINARIES.map((b) => [b, findBinary(b)])) as Record<(typeof BINARIES)[number], string | undefined>;
  const missing: string[] = BINARIES.filter((b) => !bins[b]);
  try {
    accessSync(PYTHON, constants.X_OK);
  } catch {
    missing.push(PYTHON);
  }
  if (missing.length > 0) {
    throw new Error(`radosgw: ${missing.join(', ')} not found; Ceph's radosgw is not installed: ${INSTALL_HINT}.`);
  }
  if (process.getuid?.() !== 0) {
    throw new Error('radosgw: the local Ceph cluster must run as root (the test machines and CI do).');
  }
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  let lastError: unknown;
  // Another attempt only while there is time for a whole start (~1 s, ~10 s on a very busy machine).
  for (let attempt = 1; attempt <= 3 && (attempt === 1 || deadline - Date.now() > 20_000); attempt++) {
    try {
      return await startOnce(bins as Record<(typeof BINARIES)[number], string>, options, deadline);
    } catch (error) {
      lastError = error;
      if (!(error instanceof StartError)) throw error;
    }
  }
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}

interface Peer {
  dir: string;
  /** The daemons (monitor, OSD, radosgw), each leading its own process group. */
  children: ChildProcess[];
  /** One-shot commands in flight (mkfs, monitor commands, radosgw-admin). */
  commands: Set<ChildProcess>;
  watchdog?: ChildProcess;
}

async function startOnce(bins: Record<(typeof BINARIES)[number], string>, options: RadosgwOptions, deadline: number): Promise<Radosgw> {
  const t0 = Date.now();
  const debug = process.env.EMPULSE_RADOSGW_DEBUG ? (what: string) => console.error(`radosgw +${Date.now() - t0} ms ${what}`) : () => {};
  const dir = await mkdtemp(join(tmpdir(), 'empulse-radosgw-'));
  const peer: Peer = { dir, children: [], commands: new Set() };
  const { children, commands } = peer;
  live.add(peer);
  installExitHook();

  const conf = join(dir, 'ceph.conf');
  const logDir = join(dir, 'log');
  const daemonList = join(dir, 'run', 'daemons');
  const left = () => Math.max(1, deadline - Date.now());
  const dead = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

  const stop = async () => {
    if (!live.has(peer)) return;
    // SIGKILL: the data is thrown away, and a TERM'd OSD would first wait on the monitor.
    await Promise.all(
      [...children, ...commands].map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.pid === undefined || dead(child)) return resolve();
            child.ref(); // keep this process alive until the exit is seen
            child.once('exit', () => resolve());
            killGroup(child, 'SIGKILL');
          }),
      ),
    );
    live.delete(peer);
    await rmDirRetrying(dir);
    if (peer.watchdog) killGroup(peer.watchdog, 'SIGKILL');
  };

  /** Runs a command to completion; throws with its output when it fails or overruns the deadline. */
  const exec = (bin: string, args: string[], what = `${bin.split('/').pop()} ${args.join(' ')}`) =>
    new Promise<string>((resolve, reject) => {
      const limits = { timeout: left(), killSignal: 'SIGKILL' as const, maxBuffer: 16 * 1024 * 1024 };
      const child = execFile(bin, args, limits, (error, stdout, stderr) => {
        commands.delete(child);
        if (error) {
          const how = error.killed ? `killed at the ${options.timeoutMs ?? 60_000} ms deadline` : error.message.split('\n')[0];
          reject(new StartError(`radosgw: \`${what}\` failed (${how})\n${stdout}${stderr}`));
        } else resolve(stdout);
      });
      commands.add(child);
    });
  /** A Ceph tool with this cluster's config. */
  const run = (bin: string, args: string[]) => exec(bin, ['-c', conf, ...args]);
  /** Monitor commands: groups in parallel, each group in order; returns their outputs. */
  const monCommands = async (groups: Record<string, unknown>[][]): Promise<string[][]> => {
    const what = groups.flat().map((c) => String(c.prefix)).join(', ');
    try {
      return JSON.parse(await exec(PYTHON, ['-c', MON_COMMANDS, conf, JSON.stringify(groups)], what)) as string[][];
    } catch (error) {
      if (error instanceof StartError && /No module named 'rados'/.test(error.message)) {
        throw new Error(`radosgw: ${PYTHON} cannot import rados (python3-rados, from ceph-common): ${INSTALL_HINT}.`);
      }
      throw error;
    }
  };

  /** Starts a daemon in the foreground, in its own process group, output to log/<name>.out. */
  const daemon = (name: string, bin: string, args: string[]) => {
    const out = openSync(join(logDir, `${name}.out`), 'a');
    const child = spawn(bin, ['-f', '-c', conf, ...args], { detached: true, stdio: ['ignore', out, out] });
    closeSync(out);
    children.push(child);
    child.once('error', () => {});
    if (child.pid !== undefined) appendFileSync(daemonList, `${child.pid}\n`);
    // A test that forgets stop() must not hang on the daemons: the exit hook kills them.
    child.unref();
    return child;
  };

  const failWithLogs = async (message: string): Promise<never> => {
    throw new StartError(`${message}\n${await logTails(logDir)}`);
  };
  const checkAlive = async () => {
    if (children.some(dead)) await failWithLogs('radosgw: a Ceph daemon exited during start');
  };
  /** Waits until this daemon itself listens on 127.0.0.1:port; fails if it exits first. */
  const listening = async (child: ChildProcess, port: number, name: string) => {
    while (!listensOn(child.pid, port)) {
      await checkAlive();
      if (Date.now() >= deadline) await failWithLogs(`radosgw: ${name} never listened on 127.0.0.1:${port}`);
      await sleep(20);
    }
  };

  try {
    for (const sub of ['run', 'log', 'crash', 'mon/a', 'osd/0', 'rgw']) await mkdir(join(dir, sub), { recursive: true });
    await writeFile(daemonList, '');
    peer.watchdog = spawn('bash', ['-c', WATCHDOG, 'radosgw-watchdog', String(process.pid), dir], { detached: true, stdio: 'ignore' });
    peer.watchdog.once('error', () => {});
    peer.watchdog.unref();

    const fsid = randomUUID();
    const ports = new Set<number>();
    const monPort = await freePort(ports);
    const rgwPort = await freePort(ports);
    const accessKeyId = `EMPULSE${randomBytes(8).toString('hex').toUpperCase()}`;
    const secretAccessKey = randomBytes(30).toString('base64url');
    await writeFile(conf, cephConf({ dir, fsid, monPort, rgwPort, memstoreBytes: options.memstoreBytes ?? 1024 ** 3 }));
    debug(`dir ${dir}, mon :${monPort}, rgw :${rgwPort}`);

    await run(bins.monmaptool, ['--create', '--fsid', fsid, '--addv', 'a', `[v2:127.0.0.1:${monPort}]`, join(dir, 'monmap')]);
    // Both stores are local files: make them side by side (without --no-mon-config the OSD's mkfs
    // would wait for the monitor).
    await Promise.all([
      run(bins['ceph-mon'], ['--mkfs', '-i', 'a', '--monmap', join(dir, 'monmap')]),
      run(bins['ceph-osd'], ['--mkfs', '-i', '0', '--no-mon-config']),
    ]);
    debug('mkfs done');
    const mon = daemon('mon.a', bins['ceph-mon'], ['-i', 'a']);
    // Our monitor, not whatever else may have taken the port since it was picked.
    await listening(mon, monPort, 'the monitor');
    debug('mon up');

    // memstore ignores --osd-uuid and writes its own: register the OSD under that one.
    const osdUuid = (await readFile(join(dir, 'osd/0/fsid'), 'utf8')).trim();
    const osdId = (await monCommands([[{ prefix: 'osd new', uuid: osdUuid, id: 0 }]]))[0]?.[0];
    if (osdId?.trim() !== '0') await failWithLogs(`radosgw: \`ceph osd new\` gave OSD id ${JSON.stringify(osdId)}, not 0`);
    daemon('osd.0', bins['ceph-osd'], ['-i', '0']);
    debug('osd started');

    await monCommands(
      RGW_POOLS.map((pool) => [
        { prefix: 'osd pool create', pool },
        { prefix: 'osd pool application enable', pool, app: 'rgw' },
      ]),
    );
    debug('pools created');
    await checkAlive();

    // radosgw-admin also creates the default realm, zone group and zone; radosgw starts after it
    // rather than racing it to create them.
    await run(bins['radosgw-admin'], [
      ...['-n', 'client.rgw', 'user', 'create', '--uid', 'empulse-test', '--display-name', 'Empulse tests'],
      ...['--access-key', accessKeyId, '--secret-key', secretAccessKey],
    ]);
    debug('user created');
    let rgw = daemon('client.rgw', bins.radosgw, ['-n', 'client.rgw']);
    await listening(rgw, rgwPort, 'radosgw');

    // Ready means an authenticated S3 call works (and the first bucket's extra cost is paid here).
    const endpoint = `http://127.0.0.1:${rgwPort}`;
    const client = peerClient({ endpoint, region: REGION, accessKeyId, secretAccessKey }, { accessKeyId, secretAccessKey }, 1);
    const probeBucket = `ready-${randomBytes(4).toString('hex')}`;
    try {
      for (;;) {
        await checkAlive();
        try {
          const abortSignal = AbortSignal.timeout(Math.min(left(), 15_000));
          await client.send(new CreateBucketCommand({ Bucket: probeBucket }), { abortSignal });
          await client.send(new DeleteBucketCommand({ Bucket: probeBucket }));
          break;
        } catch (error) {
          if (Date.now() >= deadline) {
            await failWithLogs(`radosgw: no working S3 endpoint at ${endpoint} in time (last error: ${String(error)})`);
          }
          await sleep(50);
        }
      }
    } finally {
      client.destroy();
    }
    debug('ready');
    const rssBytes = () => children.reduce((sum, child) => sum + rssOf(child.pid), 0);
    const stopGateway = async () => {
      const gateway = rgw;
      if (gateway.pid !== undefined && !dead(gateway)) {
        gateway.ref();
        const exited = new Promise((resolve) => gateway.once('exit', resolve));
        killGroup(gateway, 'SIGKILL');
        await exited;
      }
      const at = children.indexOf(gateway);
      if (at >= 0) children.splice(at, 1);
    };
    const startGateway = async () => {
      rgw = daemon('client.rgw', bins.radosgw, ['-n', 'client.rgw']);
      const until = Date.now() + 30_000;
      while (!listensOn(rgw.pid, rgwPort)) {
        if (dead(rgw) || Date.now() > until) throw new Error(`radosgw: the gateway did not listen again on 127.0.0.1:${rgwPort}\n${await logTails(logDir)}`);
        await sleep(20);
      }
    };
    return { endpoint, accessKeyId, secretAccessKey, region: REGION, stop, rssBytes, stopGateway, startGateway };
  } catch (error) {
    await stop();
    throw error;
  }
}

function cephConf(o: { dir: string; fsid: string; monPort: number; rgwPort: number; memstoreBytes: number }): string {
  return `# Throwaway one-node cluster for the tests (test/support/radosgw.ts).
[global]
fsid = ${o.fsid}
mon host = [v2:127.0.0.1:${o.monPort}]
mon initial members = a
public addr = 127.0.0.1
cluster addr = 127.0.0.1
public network = 127.0.0.1/32
ms bind ipv6 = false
ms bind msgr1 = false
# A daemon whose port is taken exits at once (the start then retries on other ports) instead of
# retrying the bind for 15 s.
ms bind retry count = 1
# Ceph's own auth is off. radosgw then needs "crc" mode to the monitor: by default it insists on
# "secure", which auth "none" cannot provide (it retries with error -13 forever).
auth cluster required = none
auth service required = none
auth client required = none
ms mon client mode = crc
keyring = ${o.dir}/keyring
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon warn on pool no redundancy = false
mon data avail warn = 1
mon data avail crit = 0
# Commit monitor changes (pool creation, ...) at once instead of batching them for a second.
paxos propose interval = 0.05
run dir = ${o.dir}/run
crash dir = ${o.dir}/crash
admin socket = ${o.dir}/run/$name.$pid.asok
pid file = ${o.dir}/run/$name.pid
log file = ${o.dir}/log/$name.log
mon cluster log file = ${o.dir}/log/cluster.log
[mon]
mon data = ${o.dir}/mon/$id
[osd]
osd data = ${o.dir}/osd/$id
osd objectstore = memstore
memstore device bytes = ${o.memstoreBytes}
[client.rgw]
rgw data = ${o.dir}/rgw
rgw frontends = beast endpoint=127.0.0.1:${o.rgwPort}
rgw thread pool size = 32
# Deleted, overwritten and aborted data leaves RAM within ~15 s, not hours (a read still streaming
# an object 10 s after it was overwritten could lose its tail: no test does that).
rgw gc obj min wait = 10
rgw gc processor period = 5
`;
}

/** Whether process `pid` holds a socket listening on 127.0.0.1:port (from /proc, Linux only). */
function listensOn(pid: number | undefined, port: number): boolean {
  if (pid === undefined) return false;
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  let inodes: Set<string>;
  try {
    inodes = new Set(
      readFileSync('/proc/net/tcp', 'utf8')
        .split('\n')
        .slice(1)
        .map((line) => line.trim().split(/\s+/))
        .filter((f) => f[1] === local && f[3] === '0A') // 0A: LISTEN
        .map((f) => `socket:[${f[9]}]`),
    );
  } catch {
    return false;
  }
  if (inodes.size === 0) return false;
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return false;
  }
  return fds.some((fd) => {
    try {
      return inodes.has(readlinkSync(`/proc/${pid}/fd/${fd}`));
    } catch {
      return false; // closed meanwhile
    }
  });
}

/** The last lines of every log of a failed start, for the error message. */
async function logTails(logDir: string): Promise<string> {
  const parts: string[] = [];
  for (const name of (await readdir(logDir).catch(() => [])).sort()) {
    const text = await readFile(join(logDir, name), 'utf8').catch(() => '');
    const lines = text.split('\n').filter((l) => l.trim() !== '');
    if (lines.length) parts.push(`--- ${name}\n${lines.slice(-15).join('\n')}`);
  }
  return parts.join('\n');
}

/** rm -rf that tolerates a daemon's last write racing the removal. */
async function rmDirRetrying(dir: string): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      rmSync(dir, { recursive: true, force: true });
      return;
    } catch (error) {
      if (i >= 5) throw error;
      await sleep(100);
    }
  }
}

function rssOf(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) * 1024;
  } catch {
    return 0; // exited
  }
}
