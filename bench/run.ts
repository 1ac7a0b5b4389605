/**
 * `npm run bench`: throughput and latency of the full pipeline against a bare Koa baseline
 * measured in the same run, storage puts of a 1 GiB file (local disk and a real S3 peer, against
 * sha256sum of the same file: bench/storage.ts), a 1 GiB `POST /v1/tracks` (bench/tracks.ts), W-9
 * sealing and `rotate-keys` over 100,000 forms (bench/w9.ts), and boot times on PostgreSQL and on
 * the embedded database.
 * Each server runs in its own process; autocannon drives it from this one.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { createScratchDatabase, freePort } from '../host/testing.ts';
import { benchAuth, type Figures } from './auth.ts';
import { benchBackOffice, printBackOffice } from './back-office.ts';
import { SERVER_NODE_FLAGS } from './server-flags.ts';
import { benchStorage, printStorage } from './storage.ts';
import { benchTracks, printTracks } from './tracks.ts';
import { benchUpload } from './upload.ts';
import { benchW9, printW9 } from './w9.ts';

const DURATION_S = Number(process.env.BENCH_DURATION ?? 8);
const CONNECTIONS = 50;
const here = import.meta.dirname;

interface Load {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
  readonly non2xx: number;
}

async function main(): Promise<void> {
  const scratch = await createScratchDatabase();
  const dataDir = mkdtempSync(join(tmpdir(), 'empulse-bench-'));
  try {
    console.log(`# Empulse benchmark (${CONNECTIONS} connections, ${DURATION_S} s per run, Node ${process.versions.node})\n`);

    const bare = await withServer('bare-koa.ts', {}, (url) => load(`${url}/health/live`));
    const full = await withServer('empulse.ts', { DATABASE_URL: scratch.url, LOG_LEVEL: 'info' }, (url) => load(`${url}/health/live`));
    const quiet = await withServer('empulse.ts', { DATABASE_URL: scratch.url, LOG_LEVEL: 'warn' }, (url) => load(`${url}/health/live`));
    const ready = await withServer('empulse.ts', { DATABASE_URL: scratch.url, LOG_LEVEL: 'warn' }, (url) => load(`${url}/health/ready`));

    console.log('| run | req/s | p50 ms | p99 ms | ratio to bare Koa |');
    console.log('|---|---:|---:|---:|---:|');
    const row = (name: string, r: Load) =>
      console.log(`| ${name} | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p99} | ${(r.rps / bare.rps).toFixed(2)} |`);
    row('bare Koa hello-world', bare);
    row('GET /health/live, full pipeline, access log on', full);
    row('GET /health/live, full pipeline, LOG_LEVEL=warn', quiet);
    row('GET /health/ready (database check), LOG_LEVEL=warn', ready);
    for (const r of [bare, full, quiet, ready]) {
      if (r.errors || r.non2xx) console.log(`warning: ${r.errors} errors, ${r.non2xx} non-2xx responses in a run`);
    }

    const unlimited = await withServer('empulse.ts', { DATABASE_URL: scratch.url, LOG_LEVEL: 'warn' }, (url) => load(`${url}/v1/bench/ping`));
    const memoryLimited = await withServer('empulse.ts', { DATABASE_URL: scratch.url, LOG_LEVEL: 'warn', BENCH_RATELIMIT: 'memory' }, (url) =>
      load(`${url}/v1/bench/ping`),
    );
    const redisLimited = await withServer('empulse.ts', { DATABASE_URL: scratch.url, LOG_LEVEL: 'warn', BENCH_RATELIMIT: 'redis' }, (url) =>
      load(`${url}/v1/bench/ping`),
    );
    console.log('\n| rate limits, GET /v1/bench/ping | req/s | p50 ms | p99 ms | ratio to unlimited |');
    console.log('|---|---:|---:|---:|---:|');
    const lrow = (name: string, r: Load) =>
      console.log(`| ${name} | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p99} | ${(r.rps / unlimited.rps).toFixed(2)} |`);
    lrow('no rate limits', unlimited);
    lrow('memory backend', memoryLimited);
    lrow('Redis backend (TCP, @upstash/ratelimit script)', redisLimited);

    // The metrics plugin's cost on the hot path: every request updates a counter and a histogram
    // (the runs above have it on, as empulse.config.ts does). And what one scrape costs.
    const unmeasured = await withServer('empulse.ts', { DATABASE_URL: scratch.url, LOG_LEVEL: 'warn', BENCH_METRICS: 'off' }, (url) => load(`${url}/v1/bench/ping`));
    const token = 'bench-metrics-token-0123456789abcdef';
    const scrapes = await withServer('empulse.ts', { DATABASE_URL: scratch.url, LOG_LEVEL: 'warn', METRICS_TOKEN: token }, async (url) => {
      await load(`${url}/v1/bench/ping`, 2); // series for a few routes, as after real traffic
      return load(`${url}/metrics`, DURATION_S, { authorization: `Bearer ${token}` }, 4);
    });
    console.log('\n| metrics plugin, GET /v1/bench/ping | req/s | p50 ms | p99 ms | ratio to without metrics |');
    console.log('|---|---:|---:|---:|---:|');
    const mrow = (name: string, r: Load) => console.log(`| ${name} | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p99} | ${(r.rps / unmeasured.rps).toFixed(2)} |`);
    mrow('without the metrics plugin', unmeasured);
    mrow('with it (request counter + latency histogram per request)', unlimited);
    console.log(`\nGET /metrics (process, HTTP, pool, outbox series; 4 scrapers at once): ${scrapes.rps.toFixed(0)} scrapes/s, p50 ${scrapes.p50} ms, p99 ${scrapes.p99} ms${scrapes.non2xx ? `, ${scrapes.non2xx} non-2xx` : ''}`);

    const authDb = await createScratchDatabase();
    try {
      const a = await withServer('empulse.ts', { DATABASE_URL: authDb.url, DATA_DIR: dataDir, LOG_LEVEL: 'warn' }, (url) => benchAuth(url, authDb.url, DURATION_S));
      console.log('\n| auth run | req/s | p50 ms | p99 ms | non-2xx |');
      console.log('|---|---:|---:|---:|---:|');
      const arow = (name: string, r: Figures) => console.log(`| ${name} | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p99} | ${r.non2xx} |`);
      arow('POST /v1/auth/login (argon2id m=19MiB t=2, 50 clients)', a.login);
      arow('GET /health/live, idle (10 clients)', a.liveIdle);
      arow('GET /health/live while 50 logins run (10 clients)', a.liveDuringLogins);
      arow('POST /v1/auth/refresh (rotation, 50 sessions)', a.refresh);
      arow('GET /v1/me (bearer, session check)', a.me);
      console.log(
        `\nlockout, 50 parallel wrong passwords for one email: ${a.lockout.unauthorized} × 401 (passwords checked), ${a.lockout.locked} × 423, ${a.lockout.other} other, in ${a.lockout.elapsedMs} ms`,
      );
    } finally {
      await authDb.drop();
    }

    // Admin search over 100,000 accounts (its own server and database) and audit writes (in-process kernel).
    printBackOffice(await benchBackOffice(DURATION_S));

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

    // A 1 GiB file through storage.put on the local driver and on a real S3 peer (radosgw, started
    // and stopped by the section), each in a process of its own for its peak RSS.
    printStorage(await benchStorage());

    // A 1 GiB WAV through POST /v1/tracks over loopback (its own server process and database),
    // against sha256sum of the same file, with the server's peak RSS.
    printTracks(await benchTracks());

    // W-9 forms sealed and opened per second, and rotate-keys over 100,000 forms while writers
    // replace forms (in this process, its own database).
    printW9(await benchW9());

    console.log('\n| boot (the plugins of empulse.config.ts, all their migrations) | ms |');
    console.log('|---|---:|');
    const fresh = await createScratchDatabase();
    try {
      console.log(`| PostgreSQL, empty database (migrations applied) | ${(await bootOnly({ DATABASE_URL: fresh.url })).toFixed(0)} |`);
      console.log(`| PostgreSQL, migrated database | ${(await bootOnly({ DATABASE_URL: fresh.url })).toFixed(0)} |`);
    } finally {
      await fresh.drop();
    }
    console.log(`| embedded PGlite, empty data dir | ${(await bootOnly({ DATA_DIR: dataDir })).toFixed(0)} |`);
    console.log(`| embedded PGlite, existing data dir | ${(await bootOnly({ DATA_DIR: dataDir })).toFixed(0)} |`);
  } finally {
    await scratch.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function withServer<T>(file: string, env: Record<string, string>, work: (url: string) => Promise<T>): Promise<T> {
  const port = await freePort();
  const { child } = await startServer(file, { ...env, PORT: String(port) });
  try {
    await load(`http://127.0.0.1:${port}/health/live`, 2); // warm-up
    return await work(`http://127.0.0.1:${port}`);
  } finally {
    await stopServer(child);
  }
}

async function bootOnly(env: Record<string, string>): Promise<number> {
  const { child, bootMs } = await startServer('empulse.ts', { ...env, PORT: String(await freePort()), LOG_LEVEL: 'warn' });
  await stopServer(child);
  return bootMs ?? NaN;
}

function startServer(file: string, env: Record<string, string>): Promise<{ child: ChildProcess; bootMs: number | undefined }> {
  const child = fork(join(here, 'servers', file), [], {
    env: { ...process.env, ...env },
    execArgv: [...process.execArgv, ...SERVER_NODE_FLAGS],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
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
