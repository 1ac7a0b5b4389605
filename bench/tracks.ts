/**
 * The track upload figures: a 1 GiB WAV (valid: test/support/audio-fixtures.ts, written once to a
 * temporary file and deleted after) sent as `POST /v1/tracks` over loopback to a server in a
 * process of its own (bench/servers/tracks.ts: the plugins the upload stands on, a PostgreSQL
 * scratch database, the local storage driver and outbox email in a temporary DATA_DIR), by an
 * approved artist, with a Content-Length. The server sniffs the format, reads the duration with
 * music-metadata in lock step, hashes (SHA-256) and writes through the local driver; the answer's
 * sizeBytes, sha256 and durationSeconds are checked against the file's.
 *
 * - Throughput: from the first byte sent to the 201 (answer read), as a ratio to `sha256sum` of
 *   the same file in the same run (the upload can hardly beat hashing the bytes alone). Goal ≥ 0.6.
 * - Memory: the server process's peak RSS during the upload, absolute: its kernel high-water mark
 *   (VmHWM), reset just before the upload through /proc/<pid>/clear_refs, and the highest VmRSS
 *   sampled every 10 ms (the fallback where the reset is refused). Goal < 150 MB. Beside it, the
 *   RSS once booted and just before the upload (after the bench's registrations and logins).
 * Two uploads in one server process, as bench/upload.ts does: the first in a fresh process (lazy
 * compilation, the garbage collector's lag), the second in steady state.
 *
 * The artist: two accounts registered through the API; the email verification (and the admin role
 * of one) set in SQL, as bench/back-office.ts does, instead of reading the outbox; then the artist
 * applies and the admin approves through the API.
 *
 * `npm run bench` runs it as one section; `node bench/tracks.ts` runs it alone. BENCH_TRACKS_MIB
 * changes the size; BENCH_TRACKS_CPU_PROF=<dir> runs the server with `--cpu-prof` into <dir>.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createScratchDatabase, freePort } from '../host/testing.ts';
import { audioStream, expectedDurationSeconds } from '../test/support/audio-fixtures.ts';
import { SERVER_NODE_FLAGS } from './server-flags.ts';
import { sha256sum } from './storage.ts';

const MiB = 1024 * 1024;
export const TRACKS_BENCH_BYTES = Number(process.env.BENCH_TRACKS_MIB ?? 1024) * MiB;
/** The aims: throughput against sha256sum, and the server's peak RSS in MB (10^6 bytes). */
export const TRACKS_GOALS = { ratio: 0.6, peakRssMB: 150 } as const;
/** Reads of the file on the client side: large, so the client (on the same machine) costs little CPU. */
const CLIENT_CHUNK = MiB;
const RSS_SAMPLE_MS = 10;
const BOUNDARY = '----empulse-bench-tracks-9b2f';
const PASSWORD = 'bench horse battery staple';
/** Linux's USER_HZ, the unit of utime and stime in /proc/<pid>/stat (100 on every mainstream architecture). */
const CLOCK_TICKS = 100;
const here = import.meta.dirname;

export interface TrackUpload {
  readonly seconds: number;
  /** 10^6 bytes per second. */
  readonly mbPerSecond: number;
  /** Throughput divided by sha256sum's on the same file. */
  readonly ratio: number;
  /** Just before the upload. */
  readonly rssBeforeBytes: number;
  /** The higher of the kernel's high-water mark since the upload began and the sampled VmRSS. */
  readonly rssPeakBytes: number;
  /** Whether the high-water mark could be reset (else the peak is the 10 ms samples alone). */
  readonly highWaterReset: boolean;
  /** CPU time (user + system) of the server process during the upload. */
  readonly serverCpuSeconds: number;
  readonly durationSeconds: number | null;
}

export interface TracksFigures {
  readonly bytes: number;
  /** The server's RSS once booted, before the bench's accounts logged in. */
  readonly rssBootedBytes: number;
  readonly sha256sumSeconds: number;
  readonly expectedDurationSeconds: number;
  readonly uploads: readonly TrackUpload[];
}

export async function benchTracks(size = TRACKS_BENCH_BYTES): Promise<TracksFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'empulse-bench-tracks-'));
  const scratch = await createScratchDatabase();
  try {
    const file = join(dir, 'master.wav');
    await writeWav(file, size);
    // Twice: the first read may still come from disk rather than the page cache, as the uploads' do.
    await sha256sum(file);
    const reference = await sha256sum(file);
    const env = { DATABASE_URL: scratch.url, DATA_DIR: join(dir, 'data'), LOG_LEVEL: 'warn' };
    let rssBootedBytes = NaN;
    const uploads = await withServer(env, async (url, pid) => {
      rssBootedBytes = procStatusBytes(pid, 'VmRSS');
      const artist = await approvedArtist(url, scratch.url);
      const runs: TrackUpload[] = [];
      for (let i = 0; i < 2; i++) {
        const run = await measuredUpload(url, pid, artist, file, size, reference.digest);
        runs.push({ ...run, mbPerSecond: size / 1e6 / run.seconds, ratio: reference.seconds / run.seconds });
      }
      return runs;
    });
    return { bytes: size, rssBootedBytes, sha256sumSeconds: reference.seconds, expectedDurationSeconds: expectedDurationSeconds('wav', size), uploads };
  } finally {
    await scratch.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function printTracks(f: TracksFigures): void {
  const mb = (bytes: number) => (bytes / 1e6).toFixed(0);
  const { ratio, peakRssMB } = TRACKS_GOALS;
  const mark = (ok: boolean) => (ok ? 'met' : 'MISSED');
  console.log(
    `\n| POST /v1/tracks, a ${f.bytes / MiB} MiB WAV over loopback (Content-Length, multipart, sniff, duration, SHA-256, local driver) | MB/s | s | ratio to sha256sum (goal ≥ ${ratio}) | server peak RSS MB (goal < ${peakRssMB}) | RSS just before MB | server CPU s |`,
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  console.log(`| sha256sum of the same file (reference) | ${(f.bytes / 1e6 / f.sha256sumSeconds).toFixed(0)} | ${f.sha256sumSeconds.toFixed(2)} | 1.00 | | | |`);
  f.uploads.forEach((u, i) => {
    const name = i === 0 ? 'first upload, fresh server process' : 'second upload, same process';
    const peak = `${mb(u.rssPeakBytes)} ${mark(u.rssPeakBytes / 1e6 < peakRssMB)}${u.highWaterReset ? '' : ' (10 ms samples only)'}`;
    console.log(
      `| ${name} | ${u.mbPerSecond.toFixed(0)} | ${u.seconds.toFixed(2)} | ${u.ratio.toFixed(2)} ${mark(u.ratio >= ratio)} | ${peak} | ${mb(u.rssBeforeBytes)} | ${u.serverCpuSeconds.toFixed(1)} |`,
    );
  });
  console.log(`\nserver RSS once booted: ${mb(f.rssBootedBytes)} MB (before the bench's two registrations and logins)`);
  for (const u of f.uploads) {
    if (u.durationSeconds === null || Math.abs(u.durationSeconds - f.expectedDurationSeconds) > 0.001) {
      console.log(`warning: durationSeconds ${u.durationSeconds}, expected ${f.expectedDurationSeconds.toFixed(3)}`);
    }
  }
}

/** One upload, timed from the first byte to the 201, with the server's RSS and CPU around it; the track is deleted after. */
async function measuredUpload(
  baseUrl: string,
  pid: number,
  artist: Artist,
  file: string,
  size: number,
  sha256: string,
): Promise<Omit<TrackUpload, 'mbPerSecond' | 'ratio'>> {
  const highWaterReset = resetHighWater(pid);
  const rssBeforeBytes = procStatusBytes(pid, 'VmRSS');
  let sampledPeak = rssBeforeBytes;
  const sampler = setInterval(() => (sampledPeak = Math.max(sampledPeak, procStatusBytes(pid, 'VmRSS'))), RSS_SAMPLE_MS);
  const cpuBefore = cpuSeconds(pid);
  const started = performance.now();
  let answer: { status: number; body: string };
  try {
    answer = await postTrack(baseUrl, artist, file, size, sha256);
  } finally {
    clearInterval(sampler);
  }
  const seconds = (performance.now() - started) / 1000;
  const serverCpuSeconds = cpuSeconds(pid) - cpuBefore;
  const rssPeakBytes = Math.max(sampledPeak, highWaterReset ? procStatusBytes(pid, 'VmHWM') : 0);
  if (answer.status !== 201) throw new Error(`POST /v1/tracks answered ${answer.status}: ${answer.body}`);
  const track = JSON.parse(answer.body) as { id: string; sizeBytes: number; sha256: string; format: string; durationSeconds: number | null };
  if (track.sizeBytes !== size || track.sha256 !== sha256 || track.format !== 'wav') throw new Error(`the upload arrived damaged: ${answer.body}`);
  await deleteTrack(baseUrl, artist, track.id);
  return { seconds, rssBeforeBytes, rssPeakBytes, highWaterReset, serverCpuSeconds, durationSeconds: track.durationSeconds };
}

interface Artist {
  readonly headers: { readonly authorization: string };
}

/**
 * An approved artist: an admin and an artist registered through the API, verified (and the admin
 * promoted) in SQL, logged in; the artist applies and the admin approves, through the API.
 */
async function approvedArtist(baseUrl: string, databaseUrl: string): Promise<Artist> {
  const adminEmail = 'bench-tracks-admin@example.com';
  const artistEmail = 'bench-tracks-artist@example.com';
  for (const email of [adminEmail, artistEmail]) {
    await send('POST', `${baseUrl}/v1/auth/register`, { email, password: PASSWORD, displayName: email.split('@')[0] }, 202);
  }
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    await db.query(`update auth_users set email_verified_at = now() where email_normalized = any($1)`, [[adminEmail, artistEmail]]);
    await db.query(`update auth_users set role = 'admin' where email_normalized = $1`, [adminEmail]);
  } finally {
    await db.end();
  }
  const admin = await login(baseUrl, adminEmail);
  const artist = await login(baseUrl, artistEmail);
  await send('PUT', `${baseUrl}/v1/artists/me`, { stageName: 'Bench Artist' }, 200, artist.headers);
  await send('POST', `${baseUrl}/v1/admin/artists/${artist.userId}/approve`, undefined, 200, admin.headers);
  return artist;
}

async function login(baseUrl: string, email: string): Promise<Artist & { userId: string }> {
  const pair = (await send('POST', `${baseUrl}/v1/auth/login`, { email, password: PASSWORD }, 200)) as { accessToken: string; user: { id: string } };
  return { userId: pair.user.id, headers: { authorization: `Bearer ${pair.accessToken}` } };
}

async function send(method: string, url: string, body: unknown, expected: number, headers: Record<string, string> = {}): Promise<unknown> {
  const res = await fetch(url, {
    method,
    headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status !== expected) throw new Error(`${method} ${url}: ${res.status} ${text}`);
  return text === '' ? undefined : JSON.parse(text);
}

async function deleteTrack(baseUrl: string, artist: Artist, id: string): Promise<void> {
  await send('DELETE', `${baseUrl}/v1/tracks/${id}`, undefined, 204, artist.headers);
}

/**
 * `POST /v1/tracks` with the metadata part, then the file streamed from disk as the audio part,
 * with a Content-Length (as curl -F sends it) and the X-Content-SHA256 a careful client sends.
 */
function postTrack(baseUrl: string, artist: Artist, file: string, size: number, sha256: string): Promise<{ status: number; body: string }> {
  const metadata = { title: 'Bench master', artists: ['Bench Artist'], genre: 'Electronic', explicit: false };
  const head = Buffer.from(
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="metadata"\r\nContent-Type: application/json\r\n\r\n${JSON.stringify(metadata)}\r\n` +
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="audio"; filename="master.wav"\r\nContent-Type: audio/wav\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${BOUNDARY}--\r\n`);
  const req = request(`${baseUrl}/v1/tracks`, {
    method: 'POST',
    headers: {
      ...artist.headers,
      'content-type': `multipart/form-data; boundary=${BOUNDARY}`,
      'content-length': String(head.byteLength + size + tail.byteLength),
      'x-content-sha256': sha256,
    },
  });
  const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
  });
  const body = async function* () {
    yield head;
    yield* createReadStream(file, { highWaterMark: CLIENT_CHUNK });
    yield tail;
  };
  // A refusal may close the connection before the body is sent: then the answer tells why.
  const sent = pipeline(body, req);
  return Promise.all([answer, sent.catch(() => {})]).then(([a]) => a);
}

/** The WAV fixture of exactly `size` bytes, written as it is generated (never whole in memory). */
async function writeWav(path: string, size: number): Promise<void> {
  const reader = audioStream('wav', size).getReader();
  const chunks = async function* () {
    for (let r = await reader.read(); !r.done; r = await reader.read()) yield r.value;
  };
  await pipeline(chunks, createWriteStream(path));
}

/** A field of /proc/<pid>/status given in kB (VmRSS, VmHWM), in bytes. */
function procStatusBytes(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const kb = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  if (kb === undefined) throw new Error(`/proc/${pid}/status has no ${field} (the tracks bench needs Linux)`);
  return Number(kb) * 1024;
}

/** Resets the process's VmHWM to its current RSS (Linux ≥ 4.0, same user): the peak is then the upload's. */
function resetHighWater(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** User + system CPU seconds the process has used (fields 14 and 15 of /proc/<pid>/stat, after the command name). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** servers/tracks.ts in a process of its own (its RSS is the server's alone), as bench/run.ts starts its servers. */
async function withServer<T>(env: Record<string, string>, work: (url: string, pid: number) => Promise<T>): Promise<T> {
  const port = await freePort();
  const profileDir = process.env.BENCH_TRACKS_CPU_PROF;
  const child = fork(join(here, 'servers', 'tracks.ts'), [], {
    env: { ...process.env, ...env, PORT: String(port) },
    execArgv: [...process.execArgv, ...SERVER_NODE_FLAGS, ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${resolve(profileDir)}`] : [])],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`servers/tracks.ts exited with ${code} before it was ready`)));
  });
  try {
    return await work(`http://127.0.0.1:${port}`, child.pid!);
  } finally {
    await stop(child);
  }
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    if (child.connected) child.send('stop');
    // Longer than run.ts's 3 s: a --cpu-prof server writes its profile on the way out.
    setTimeout(() => child.kill('SIGKILL'), 15_000).unref();
    if (!child.connected) child.kill('SIGTERM');
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  printTracks(await benchTracks());
}
