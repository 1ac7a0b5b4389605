/**
 * The storage figures: a 1 GiB file (random bytes, generated once in a temporary directory and
 * deleted after) streamed through `storage.put` (SHA-256 while streaming, checked against the
 * expected digest) on the local driver and on a real S3 peer (Ceph radosgw, started here and
 * stopped after; test/support/radosgw.ts). Each put runs in a process of its own
 * (storage-worker.ts) so its peak RSS is the put's. Throughput is given as a ratio to `sha256sum`
 * of the same file measured in the same run: the put can hardly beat hashing the bytes alone.
 *
 * `npm run bench` runs it as one section; `node bench/storage.ts` runs it alone.
 */
import { spawn, fork } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, DeleteBucketCommand } from '@aws-sdk/client-s3';
import { peerClient, s3StorageOptions, startRadosgw } from '../test/support/radosgw.ts';
import type { PutJob, PutResult } from './storage-worker.ts';

const MiB = 1024 * 1024;
export const STORAGE_BENCH_BYTES = Number(process.env.BENCH_STORAGE_MIB ?? 1024) * MiB;
/** What one read of the file hands to the stream: the size Node's HTTP parser gives a body at most. */
const CHUNK = 64 * 1024;
const here = import.meta.dirname;

export interface StorageRun {
  readonly name: string;
  readonly seconds: number;
  /** 10^6 bytes per second. */
  readonly mbPerSecond: number;
  /** Throughput divided by sha256sum's on the same file. */
  readonly ratio: number;
  readonly rssBeforeBytes: number;
  readonly rssPeakBytes: number;
  /** CPU time of the put's process (the store's own CPU not included). */
  readonly cpuSeconds: number;
}

export interface StorageFigures {
  readonly bytes: number;
  readonly sha256sumSeconds: number;
  readonly runs: readonly StorageRun[];
}

/** The S3 driver's part size and parts in flight: extra memory ≈ partSize × (queueSize + 2). */
const S3_SETTINGS = [
  { partSizeBytes: 8 * MiB, queueSize: 4, note: 'the defaults' },
  { partSizeBytes: 5 * MiB, queueSize: 2, note: 'lean' },
] as const;

export async function benchStorage(size = STORAGE_BENCH_BYTES): Promise<StorageFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'empulse-bench-storage-'));
  const file = join(dir, 'object.bin');
  let peer: Awaited<ReturnType<typeof startRadosgw>> | undefined;
  try {
    await writeRandomFile(file, size);
    // Twice: the first read may still come from disk rather than the page cache, as the puts' do.
    await sha256sum(file);
    const reference = await sha256sum(file);
    const rate = (seconds: number) => size / 1e6 / seconds;
    const runs: StorageRun[] = [];
    const record = (name: string, r: PutResult) =>
      runs.push({
        name,
        seconds: r.seconds,
        mbPerSecond: rate(r.seconds),
        ratio: rate(r.seconds) / rate(reference.seconds),
        rssBeforeBytes: r.rssBeforeBytes,
        rssPeakBytes: Math.max(r.rssPeakBytes, r.rssHighWaterBytes ?? 0),
        cpuSeconds: r.cpuSeconds,
      });

    const job = { file, sizeBytes: size, sha256: reference.digest, chunkBytes: CHUNK };
    record('local driver (temporary file, fsync, rename)', await put({ ...job, driver: { name: 'local', dir: join(dir, 'storage') } }));

    // memstore keeps objects in RAM: room for the object and radosgw's own pools.
    peer = await startRadosgw({ memstoreBytes: size * 2 + 512 * MiB });
    const bucket = 'empulse-bench';
    const admin = peerClient(peer);
    try {
      await admin.send(new CreateBucketCommand({ Bucket: bucket }));
      for (const { partSizeBytes, queueSize, note } of S3_SETTINGS) {
        const options = { ...s3StorageOptions(peer, bucket), partSizeBytes, queueSize };
        const name = `S3 driver → radosgw on 127.0.0.1, ${partSizeBytes / MiB} MiB parts × ${queueSize} in flight (${note})`;
        record(name, await put({ ...job, driver: { name: 's3', options } }));
      }
      await admin.send(new DeleteBucketCommand({ Bucket: bucket }));
    } finally {
      admin.destroy();
    }
    return { bytes: size, sha256sumSeconds: reference.seconds, runs };
  } finally {
    await peer?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function printStorage(f: StorageFigures): void {
  const mb = (bytes: number) => (bytes / 1e6).toFixed(0);
  console.log(`\n| storage.put of a ${f.bytes / MiB} MiB file (64 KiB chunks, SHA-256 checked) | MB/s | s | ratio to sha256sum | peak RSS MB | RSS before MB | CPU s of the process |`);
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  console.log(`| sha256sum of the same file (reference) | ${(f.bytes / 1e6 / f.sha256sumSeconds).toFixed(0)} | ${f.sha256sumSeconds.toFixed(2)} | 1.00 | | | |`);
  for (const r of f.runs) {
    console.log(
      `| ${r.name} | ${r.mbPerSecond.toFixed(0)} | ${r.seconds.toFixed(2)} | ${r.ratio.toFixed(2)} | ${mb(r.rssPeakBytes)} | ${mb(r.rssBeforeBytes)} | ${r.cpuSeconds.toFixed(1)} |`,
    );
  }
}

async function writeRandomFile(path: string, size: number): Promise<void> {
  const out = createWriteStream(path);
  const block = Buffer.alloc(4 * MiB);
  for (let written = 0; written < size; written += block.byteLength) {
    const chunk = randomFillSync(block).subarray(0, Math.min(block.byteLength, size - written));
    if (!out.write(Buffer.from(chunk))) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

/** Times coreutils' `sha256sum` on `path`: the baseline upload figures are ratios to. */
export function sha256sum(path: string): Promise<{ digest: string; seconds: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn('sha256sum', [path], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = (performance.now() - started) / 1000;
      const digest = /^([0-9a-f]{64})\s/.exec(out)?.[1];
      if (code !== 0 || !digest) reject(new Error(`sha256sum exited with ${code}: ${out}`));
      else resolve({ digest, seconds });
    });
  });
}

function put(job: PutJob): Promise<PutResult> {
  return new Promise((resolve, reject) => {
    const child = fork(join(here, 'storage-worker.ts'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.once('message', (msg: { result?: PutResult; error?: string }) => (msg.result ? resolve(msg.result) : reject(new Error(`storage put failed: ${msg.error}`))));
    child.once('exit', (code) => reject(new Error(`storage-worker exited with ${code} before answering`)));
    child.send(job);
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  printStorage(await benchStorage());
}
