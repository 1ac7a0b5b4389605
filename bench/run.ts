/**
 * `npm run bench`: throughput and latency of the full pipeline against a bare Koa baseline
 * measured in the same run, storage puts of a 1 GiB file (local disk and a real S3 peer, against
 * sha256sum of the same file: bench/storage.ts), a 1 GiB `POST /v1/tracks` (bench/tracks.ts), W-9
 * sealing and `rotate-keys` over 100,000 forms (bench/w9.ts), and boot times on PostgreSQL and on
 * the embedded database.
 * Each server runs in its own process; autocannon drives it from this one. The goals of issue 13
 * (ratios measured in the same run) are printed last, `--json` gives them to machines, and the
 * full pipeline's CPU profile is saved under bench/profiles/.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import autocannon from 'autocannon';
import { createScratchDatabase, freePort } from '../host/testing.ts';
import { rawVerifiesPerSecond, SERVER_HASH_CONCURRENCY } from './argon2-raw.ts';
import { benchAuth, type Figures } from './auth.ts';
import type { CpuShares } from './cpu-account.ts';
import { benchBackOffice, printBackOffice } from './back-office.ts';
import { SERVER_NODE_FLAGS } from './server-flags.ts';
import { benchStorage, printStorage } from './storage.ts';
import { benchTracks, printTracks } from './tracks.ts';
import { benchUpload } from './upload.ts';
import { benchW9, printW9 } from './w9.ts';

const DURATION_S = Number(process.env.BENCH_DURATION ?? 8);

/**
 * The interleaved comparisons run every server on core 0 and this process (the load generator)
 * on core 1 (Linux `taskset`, 2 cores or more): compared servers then run under the same
 * placement, which otherwise varies by process and moves a ratio by ±30% between runs on a
 * 2-core machine. PostgreSQL and Redis are left to the scheduler; the other sections (logins
 * against argon2's ceiling, uploads) are not pinned. BENCH_PIN=off turns it off.
 */
const CAN_PIN = process.env.BENCH_PIN !== 'off' && availableParallelism() >= 2 && hasTaskset();

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Every thread of this process on `cores` (a taskset list, e.g. "1" or "0-1"). */
function pinSelf(cores: string): void {
  execFileSync('taskset', ['-a', '-p', '-c', cores, String(process.pid)], { stdio: 'ignore' });
}
const CONNECTIONS = 50;
const here = import.meta.dirname;

/**
 * `npm run bench [-- --json] [-- --only pipeline,auth,…]`. Sections: pipeline (bare Koa, the
 * full pipeline, readiness, metrics, rate limits), auth, memory, profile, backoffice, uploads,
 * storage, tracks, w9, boot. `--json`: the human tables go to stderr and stdout gets one JSON
 * document (every goal's figure and ratio), for machines.
 */
const args = process.argv.slice(2);
const asJson = args.includes('--json');
const onlyArg = args.find((a) => a.startsWith('--only='))?.slice('--only='.length) ?? (args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined);
const only = onlyArg ? new Set(onlyArg.split(',')) : undefined;
const runs = (section: string) => !only || only.has(section);
if (asJson) console.log = (...line: unknown[]) => console.error(...line);

interface Load {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
  readonly non2xx: number;
}

/** One row of the goals table (issue 13): a ratio measured in this run, and its goal. */
interface Goal {
  readonly figure: string;
  readonly value: number;
  readonly goal: number;
  /** `min`: the value must be at least the goal; `max`: at most. */
  readonly kind: 'min' | 'max';
  readonly unit?: string;
  readonly detail?: string;
}
const goals: Goal[] = [];
const met = (g: Goal) => (g.kind === 'min' ? g.value >= g.goal : g.value <= g.goal);

async function main(): Promise<void> {
  const scratch = await createScratchDatabase();
  const dataDir = mkdtempSync(join(tmpdir(), 'empulse-bench-'));
  try {
    console.log(`# Empulse benchmark (${CONNECTIONS} connections, ${DURATION_S} s per run, Node ${process.versions.node}${CAN_PIN ? '; interleaved comparisons pinned: servers on core 0, load generator on core 1' : ''})\n`);
    if (runs('pipeline')) await pipeline(scratch.url);
    if (runs('auth')) await auth(dataDir);
    if (runs('memory')) await memory();
    if (runs('profile')) await profile(scratch.url);

    // Admin search over 100,000 accounts (its own server and database) and audit writes (in-process kernel).
    if (runs('backoffice')) printBackOffice(await benchBackOffice(DURATION_S));

    if (runs('uploads')) {
      // Twice in one server process: the first upload's RSS growth includes the garbage collector's
      // lag in a fresh process (V8 collects dropped buffers after ~64 MB of them), the second shows
      // the steady state.
      const uploads = await withServer('empulse.ts', { DATABASE_URL: scratch.url, LOG_LEVEL: 'warn' }, async (url) => [
        await benchUpload(url),
        await benchUpload(url),
      ]);
      console.log('\n| multipart 200 MiB upload (one file part, chunked, SHA-256 in the handler) | MB/s | s | peak RSS growth MiB |');
      console.log('|---|---:|---:|---:|');
      uploads.forEach((u, i) =>
        console.log(`| ${i === 0 ? 'first upload, fresh server process' : 'second upload'} | ${u.mbPerSecond.toFixed(0)} | ${u.seconds.toFixed(1)} | ${(u.rssGrowthBytes / 1024 / 1024).toFixed(1)} |`),
      );
    }

    // A 1 GiB file through storage.put on the local driver and on a real S3 peer (radosgw, started
    // and stopped by the section), each in a process of its own for its peak RSS.
    if (runs('storage')) printStorage(await benchStorage());

    // A 1 GiB WAV through POST /v1/tracks over loopback (its own server process and database),
    // against sha256sum of the same file, with the server's peak RSS.
    if (runs('tracks')) printTracks(await benchTracks());

    // W-9 forms sealed and opened per second, and rotate-keys over 100,000 forms while writers
    // replace forms (in this process, its own database).
    if (runs('w9')) printW9(await benchW9());

    if (runs('boot')) {
      console.log('\n| boot (the plugins of empulse.config.ts, all their migrations) | ms |');
      console.log('|---|---:|');
      const fresh = await createScratchDatabase();
      try {
        console.log(`| PostgreSQL, empty database (migrations applied) | ${(await bootOnly({ DATABASE_URL: fresh.url })).toFixed(0)} |`);
        console.log(`| PostgreSQL, migrated database | ${(await bootOnly({ DATABASE_URL: fresh.url })).toFixed(0)} |`);
      } finally {
        await fresh.drop();
      }
      const bootDir = mkdtempSync(join(tmpdir(), 'empulse-bench-boot-'));
      try {
        console.log(`| embedded PGlite, empty data dir | ${(await bootOnly({ DATA_DIR: bootDir })).toFixed(0)} |`);
        console.log(`| embedded PGlite, existing data dir | ${(await bootOnly({ DATA_DIR: bootDir })).toFixed(0)} |`);
      } finally {
        rmSync(bootDir, { recursive: true, force: true });
      }
    }

    printGoals();
  } finally {
    await scratch.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function printGoals(): void {
  if (goals.length === 0) return;
  console.log('\n## Goals (each a ratio or figure measured in this run)\n');
  console.log('| figure | measured | goal | |');
  console.log('|---|---:|---:|---|');
  for (const g of goals) {
    const value = g.unit ? `${g.value.toFixed(0)} ${g.unit}` : g.value.toFixed(2);
    const goal = `${g.kind === 'min' ? '≥' : '<'} ${g.unit ? `${g.goal} ${g.unit}` : g.goal}`;
    console.log(`| ${g.figure}${g.detail ? ` (${g.detail})` : ''} | ${value} | ${goal} | ${met(g) ? 'met' : 'MISSED'} |`);
  }
  if (asJson) {
    process.stdout.write(
      `${JSON.stringify({ node: process.versions.node, durationS: DURATION_S, connections: CONNECTIONS, goals: goals.map((g) => ({ ...g, met: met(g) })) }, null, 2)}\n`,
    );
  }
}

/** bare Koa, the full pipeline with and without the access log, readiness, metrics, rate limits. */
async function pipeline(databaseUrl: string): Promise<void> {
  const db = { DATABASE_URL: databaseUrl };
  const runs = await interleaved([
    { file: 'bare-koa.ts', env: {}, path: '/health/live' },
    { file: 'empulse.ts', env: { ...db, LOG_LEVEL: 'info' }, path: '/health/live' },
    { file: 'empulse.ts', env: { ...db, LOG_LEVEL: 'warn' }, path: '/health/live' },
    { file: 'empulse.ts', env: { ...db, LOG_LEVEL: 'warn', BENCH_METRICS: 'off' }, path: '/health/live' },
    { file: 'empulse.ts', env: { ...db, LOG_LEVEL: 'warn' }, path: '/health/ready' },
  ]);
  const [BARE, FULL, QUIET, UNMEASURED, READY] = [0, 1, 2, 3, 4] as const;

  console.log(`| run (median of ${ROUNDS} interleaved rounds) | req/s | p50 ms | p99 ms | ratio to bare Koa (median of the rounds' ratios) |`);
  console.log('|---|---:|---:|---:|---:|');
  const row = (name: string, i: number) => {
    const r = runs.loads[i]!;
    console.log(`| ${name} | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p99} | ${runs.ratio(i, BARE).toFixed(2)} |`);
  };
  row('bare Koa hello-world', BARE);
  row('GET /health/live, full pipeline, access log on', FULL);
  row('GET /health/live, full pipeline, LOG_LEVEL=warn', QUIET);
  row('GET /health/live, LOG_LEVEL=warn, without the metrics plugin', UNMEASURED);
  row('GET /health/ready (every check, at most 1 s old), LOG_LEVEL=warn', READY);
  for (const r of runs.loads) {
    if (r.errors || r.non2xx) console.log(`warning: ${r.errors} errors, ${r.non2xx} non-2xx responses in a run`);
  }
  goals.push(
    { figure: 'GET /health/live, default config, access log at info ÷ bare Koa', value: runs.ratio(FULL, BARE), goal: 0.75, kind: 'min' },
    { figure: 'GET /health/live, LOG_LEVEL=warn ÷ bare Koa', value: runs.ratio(QUIET, BARE), goal: 0.85, kind: 'min' },
    { figure: 'GET /health/ready ÷ GET /health/live (LOG_LEVEL=warn)', value: runs.ratio(READY, QUIET), goal: 0.5, kind: 'min' },
    { figure: 'metrics plugin on ÷ off, GET /health/live (LOG_LEVEL=warn)', value: runs.ratio(QUIET, UNMEASURED), goal: 0.95, kind: 'min' },
  );

  // What one scrape costs, after some traffic has made series.
  const token = 'bench-metrics-token-0123456789abcdef';
  const scrapes = await withServer('empulse.ts', { ...db, LOG_LEVEL: 'warn', METRICS_TOKEN: token }, async (url) => {
    await load(`${url}/v1/bench/ping`, 2);
    return load(`${url}/metrics`, DURATION_S, { authorization: `Bearer ${token}` }, 4);
  });
  console.log(`\nGET /metrics (process, HTTP, pool, outbox series; 4 scrapers at once): ${scrapes.rps.toFixed(0)} scrapes/s, p50 ${scrapes.p50} ms, p99 ${scrapes.p99} ms${scrapes.non2xx ? `, ${scrapes.non2xx} non-2xx` : ''}`);

  const limits = await interleaved([
    { file: 'empulse.ts', env: { ...db, LOG_LEVEL: 'warn' }, path: '/v1/bench/ping' },
    { file: 'empulse.ts', env: { ...db, LOG_LEVEL: 'warn', BENCH_RATELIMIT: 'memory' }, path: '/v1/bench/ping' },
    { file: 'empulse.ts', env: { ...db, LOG_LEVEL: 'warn', BENCH_RATELIMIT: 'redis' }, path: '/v1/bench/ping' },
  ]);
  console.log(`\n| rate limits, GET /v1/bench/ping (median of ${ROUNDS} interleaved rounds) | req/s | p50 ms | p99 ms | ratio to unlimited (median of the rounds' ratios) |`);
  console.log('|---|---:|---:|---:|---:|');
  const lrow = (name: string, i: number) => {
    const r = limits.loads[i]!;
    console.log(`| ${name} | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p99} | ${limits.ratio(i, 0).toFixed(2)} |`);
  };
  lrow('no rate limits', 0);
  lrow('memory backend', 1);
  lrow('Redis backend (TCP, @upstash/ratelimit script)', 2);
  goals.push(
    { figure: 'rate-limited ÷ unlimited route, memory backend', value: limits.ratio(1, 0), goal: 0.95, kind: 'min' },
    { figure: 'rate-limited ÷ unlimited route, Redis backend', value: limits.ratio(2, 0), goal: 0.8, kind: 'min' },
  );
}

/** Rounds per interleaved comparison: each server is loaded once per round, in turn. */
const ROUNDS = 5;

/** Each target's runs, one per round; `ratio` compares two targets round by round. */
interface Interleaved {
  /** The median round of each target. */
  readonly loads: readonly Load[];
  /** Median over rounds of target i's req/s ÷ target j's in the same round. */
  ratio(i: number, j: number): number;
}

/**
 * Loads several servers in turn, ROUNDS times, all of them started first, the order reversed
 * every other round: each ratio is taken within a round (runs seconds apart, under the same
 * conditions: this machine's speed drifts by ±20% between runs taken minutes apart) and the
 * median round's ratio is kept.
 */
async function interleaved(targets: readonly { file: string; env: Record<string, string>; path: string }[]): Promise<Interleaved> {
  const started: { child: ChildProcess; url: string }[] = [];
  if (CAN_PIN) pinSelf('1');
  try {
    for (const t of targets) {
      const port = await freePort();
      const { child } = await startServer(t.file, { ...t.env, PORT: String(port) }, [], CAN_PIN);
      started.push({ child, url: `http://127.0.0.1:${port}${t.path}` });
      await load(started.at(-1)!.url, 2); // warm-up
    }
    const rounds: Load[][] = targets.map(() => []);
    const seconds = Math.max(2, Math.round(DURATION_S / 2.5));
    for (let round = 0; round < ROUNDS; round++) {
      const order = [...started.keys()];
      if (round % 2 === 1) order.reverse();
      for (const i of order) rounds[i]!.push(await load(started[i]!.url, seconds));
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    return {
      loads: rounds.map((runs) => [...runs].sort((a, b) => a.rps - b.rps)[Math.floor(runs.length / 2)]!),
      ratio: (i, j) => median(rounds[i]!.map((run, r) => run.rps / rounds[j]![r]!.rps)),
    };
  } finally {
    await Promise.all(started.map((s) => stopServer(s.child)));
    if (CAN_PIN) pinSelf(`0-${availableParallelism() - 1}`);
  }
}

/** Sessions, refresh and logins on their own server and database, against argon2's own ceiling. */
async function auth(dataDir: string): Promise<void> {
  const raw = await rawVerifiesPerSecond(DURATION_S);
  const authDb = await createScratchDatabase();
  try {
    const a = await withServer('empulse.ts', { DATABASE_URL: authDb.url, DATA_DIR: dataDir, LOG_LEVEL: 'warn', BENCH_READINESS_CACHE_MS: '0' }, (url, pid) =>
      benchAuth(url, pid, authDb.url, DURATION_S),
    );
    console.log('\n| auth run | req/s | p50 ms | p99 ms | non-2xx |');
    console.log('|---|---:|---:|---:|---:|');
    const arow = (name: string, r: Figures) => console.log(`| ${name} | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p99} | ${r.non2xx} |`);
    console.log(`| raw argon2id verifications (m=19 MiB, t=2, ${SERVER_HASH_CONCURRENCY} at once, no HTTP) | ${raw.toFixed(0)} | | | |`);
    arow('POST /v1/auth/login, 50 clients on 50 accounts', a.loginMany);
    arow('POST /v1/auth/login, 50 clients on one account (lockout on: they take turns)', a.login);
    arow('GET /health/live (50 clients)', a.live);
    arow('GET /health/ready (50 clients; readinessCacheMs 0: every check per probe)', a.ready);
    arow('GET /health/live, idle (10 clients)', a.liveIdle);
    arow('GET /health/live while 50 logins run (10 clients)', a.liveDuringLogins);
    arow('POST /v1/auth/refresh (rotation, 50 sessions)', a.refresh);
    arow('GET /v1/me (bearer, session check)', a.me);
    if (a.loginCpu) {
      // What bounds logins ÷ raw argon2: every other consumer shares the same cores.
      const spent = a.loginCpu.perRequestMs.reduce((sum, c) => sum + c.ms, 0);
      console.log(`\nCPU per login (50 accounts; machine ${(a.loginCpu.machineBusy * 100).toFixed(0)}% busy), from /proc:`);
      console.log('\n| consumer | ms per login | share |');
      console.log('|---|---:|---:|');
      for (const c of a.loginCpu.perRequestMs) console.log(`| ${c.consumer} | ${c.ms.toFixed(2)} | ${((100 * c.ms) / spent).toFixed(0)}% |`);
      console.log(`| all | ${spent.toFixed(2)} | |`);
    }
    console.log(
      `\nlockout, 50 parallel wrong passwords for one email: ${a.lockout.unauthorized} × 401 (passwords checked), ${a.lockout.locked} × 423, ${a.lockout.other} other, in ${a.lockout.elapsedMs} ms`,
    );
    goals.push(
      { figure: 'GET /v1/me (bearer, session check) ÷ GET /health/live', value: a.me.rps / a.live.rps, goal: 0.5, kind: 'min' },
      { figure: 'POST /v1/auth/refresh ÷ GET /health/ready with its checks run per probe, same database', value: a.refresh.rps / a.ready.rps, goal: 0.5, kind: 'min' },
      {
        figure: 'POST /v1/auth/login, 50 clients on 50 accounts ÷ raw argon2id verifications/s',
        value: a.loginMany.rps / raw,
        goal: 0.9,
        kind: 'min',
        ...(a.loginCpu && { detail: `hashing threads ${libuvShare(a.loginCpu)}% of the CPU spent per login` }),
      },
      { figure: 'POST /v1/auth/login, 50 clients on one account, lockout on ÷ raw argon2id', value: a.login.rps / raw, goal: 0.8, kind: 'min' },
      { figure: 'POST /v1/auth/login on one account, lockout on: p99', value: a.login.p99, goal: 1000, kind: 'max', unit: 'ms' },
    );
  } finally {
    await authDb.drop();
  }
}

/** RSS of `npm start`'s server (host/node.ts, its Node flags) after its first start on the embedded database, idle. */
async function memory(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'empulse-bench-rss-'));
  try {
    const port = await freePort();
    const child = spawn(process.execPath, [...SERVER_NODE_FLAGS, join(here, '..', 'host', 'node.ts'), 'start'], {
      env: { ...process.env, DATA_DIR: join(dir, 'data'), DATABASE_URL: '', PORT: String(port), LOG_LEVEL: 'warn' },
      stdio: 'ignore',
    });
    try {
      for (let i = 0; i < 240 && (await fetch(`http://127.0.0.1:${port}/health/live`).catch(() => undefined))?.status !== 200; i++) {
        await new Promise((r) => setTimeout(r, 250));
      }
      await new Promise((r) => setTimeout(r, 3000)); // settled: timers ran, the first GC happened
      const rssMB = rssOf(child.pid!) / 1024 / 1024;
      console.log(`\nserver RSS after its first start on the embedded database (npm start's command), idle: ${rssMB.toFixed(0)} MB`);
      goals.push({ figure: 'server RSS after the first embedded start, idle', value: rssMB, goal: 250, kind: 'max', unit: 'MB' });
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The full pipeline's CPU profile under GET /health/live load (access log on), saved as a
 * .cpuprofile (open it in Chrome DevTools or speedscope) with its heaviest functions printed.
 */
async function profile(databaseUrl: string): Promise<void> {
  const dir = join(here, 'profiles');
  mkdirSync(dir, { recursive: true });
  const before = new Set(readdirSync(dir));
  await withServer('empulse.ts', { DATABASE_URL: databaseUrl, LOG_LEVEL: 'info' }, (url) => load(`${url}/health/live`), ['--cpu-prof', `--cpu-prof-dir=${dir}`]);
  const written = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile') && !before.has(f));
  if (written.length === 0) {
    console.log('\nprofile: the server wrote no .cpuprofile');
    return;
  }
  const file = join(dir, 'pipeline-health-live.cpuprofile');
  renameSync(join(dir, written[0]!), file);
  console.log(`\nCPU profile of the full pipeline under GET /health/live load: ${relative(process.cwd(), file)}`);
  console.log('\n| self time | % | function | where |');
  console.log('|---:|---:|---|---|');
  for (const f of heaviest(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, 15)) {
    console.log(`| ${f.ms.toFixed(0)} ms | ${f.share.toFixed(1)} | ${f.name} | ${f.where} |`);
  }
}

interface CpuProfile {
  readonly nodes: readonly { readonly id: number; readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number } }[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Self time by function (name and file), heaviest first. */
function heaviest(p: CpuProfile, count: number): { name: string; where: string; ms: number; share: number }[] {
  const byNode = new Map(p.nodes.map((n) => [n.id, n.callFrame]));
  const self = new Map<string, number>();
  let total = 0;
  p.samples.forEach((id, i) => {
    const frame = byNode.get(id)!;
    const where = frame.url ? `${frame.url.replace(/^.*\/node_modules\//, '').replace(/^file:\/\/.*?\/(core|host|plugins)\//, '$1/')}:${frame.lineNumber + 1}` : '';
    const key = `${frame.functionName || '(anonymous)'}\t${where}`;
    const dt = p.timeDeltas[i] ?? 0;
    self.set(key, (self.get(key) ?? 0) + dt);
    total += dt;
  });
  return [...self]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([key, us]) => {
      const [name, where] = key.split('\t');
      return { name: name!, where: where!, ms: us / 1000, share: (100 * us) / total };
    });
}

/** The server's libuv workers' (argon2, webcrypto) share of all CPU spent per request. */
function libuvShare(cpu: CpuShares): string {
  const all = cpu.perRequestMs.reduce((sum, c) => sum + c.ms, 0);
  const hashing = cpu.perRequestMs.filter((c) => c.consumer === 'server libuv-worker').reduce((sum, c) => sum + c.ms, 0);
  return ((100 * hashing) / all).toFixed(0);
}

function rssOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  return Number(/(\d+)/.exec(line ?? '')?.[1] ?? NaN) * 1024;
}

async function withServer<T>(file: string, env: Record<string, string>, work: (url: string, pid: number) => Promise<T>, nodeFlags: readonly string[] = []): Promise<T> {
  const port = await freePort();
  const { child } = await startServer(file, { ...env, PORT: String(port) }, nodeFlags);
  try {
    await load(`http://127.0.0.1:${port}/health/live`, 2); // warm-up
    return await work(`http://127.0.0.1:${port}`, child.pid!);
  } finally {
    await stopServer(child);
  }
}

async function bootOnly(env: Record<string, string>): Promise<number> {
  const { child, bootMs } = await startServer('empulse.ts', { ...env, PORT: String(await freePort()), LOG_LEVEL: 'warn' });
  await stopServer(child);
  return bootMs ?? NaN;
}

function startServer(file: string, env: Record<string, string>, nodeFlags: readonly string[] = [], pinned = false): Promise<{ child: ChildProcess; bootMs: number | undefined }> {
  const args = [...process.execArgv, ...SERVER_NODE_FLAGS, ...nodeFlags, join(here, 'servers', file)];
  const options = { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] as ('ignore' | 'inherit' | 'ipc')[] };
  // Pinned (see CAN_PIN): the server on core 0, this process (autocannon) on core 1.
  const child = pinned ? spawn('taskset', ['-c', '0', process.execPath, ...args], options) : spawn(process.execPath, args, options);
  return new Promise((resolve, reject) => {
    child.once('message', (msg: { ready?: boolean; bootMs?: number }) => resolve({ child, bootMs: msg.bootMs }));
    child.once('exit', (code) => reject(new Error(`${file} exited with ${code} before it was ready`)));
  });
}

function stopServer(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    if (child.connected) child.send('stop');
    setTimeout(() => child.kill('SIGKILL'), 3000).unref();
    if (!child.connected) child.kill('SIGTERM');
  });
}

async function load(url: string, duration = DURATION_S, headers: Record<string, string> = {}, connections = CONNECTIONS): Promise<Load> {
  const result = await autocannon({ url, connections, duration, pipelining: 1, headers });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}


await main();
