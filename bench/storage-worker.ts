/**
 * One `storage.put` of a file, in a process of its own so its peak RSS is the put's alone
 * (bench/storage.ts forks it once per driver). It builds the storage service over the driver it is
 * told (the same service and driver code the storage plugin runs: service.ts, local-driver.ts,
 * s3-driver.ts), streams the file through `put` with the expected SHA-256, samples its own RSS
 * while the bytes flow, deletes the object and reports over IPC.
 */
import { createReadStream } from 'node:fs';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import * as v from 'valibot';
import { createLogger } from '../core/index.ts';
import { storageConfigSchema } from '../plugins/storage/config.ts';
import type { StorageDriver } from '../plugins/storage/driver.ts';
import { createLocalDriver } from '../plugins/storage/local-driver.ts';
import { createS3Driver } from '../plugins/storage/s3-driver.ts';
import { createStorageService } from '../plugins/storage/service.ts';

export interface PutJob {
  readonly file: string;
  readonly sizeBytes: number;
  readonly sha256: string;
  /** Bytes per read of the file: what a request body hands over at a time. */
  readonly chunkBytes: number;
  readonly driver: { readonly name: 'local'; readonly dir: string } | { readonly name: 's3'; readonly options: Record<string, unknown> };
}

export interface PutResult {
  readonly seconds: number;
  readonly rssBeforeBytes: number;
  /** Highest RSS sampled (every 10 ms) while the put ran. */
  readonly rssPeakBytes: number;
  /** The kernel's high-water mark of this process's RSS (Linux), over its whole life. */
  readonly rssHighWaterBytes: number | undefined;
  /** CPU time (user + system) this process spent on the put: the client's cost, whatever the store's. */
  readonly cpuSeconds: number;
}

function highWaterMark(): number | undefined {
  try {
    const kb = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    return kb === undefined ? undefined : Number(kb) * 1024;
  } catch {
    return undefined;
  }
}

async function run(job: PutJob): Promise<PutResult> {
  const logger = createLogger({ level: 'warn' });
  const driver: StorageDriver =
    job.driver.name === 'local'
      ? createLocalDriver(job.driver.dir, { signingKey: 'bench-signing-key-0123456789abcdef0123', logger })
      : createS3Driver(v.parse(storageConfigSchema, job.driver.options), 's3', logger);
  const storage = createStorageService(driver);
  try {
    const key = storage.newKey('bench', 'bin');
    const rssBeforeBytes = process.memoryUsage.rss();
    let rssPeakBytes = rssBeforeBytes;
    const sampler = setInterval(() => {
      rssPeakBytes = Math.max(rssPeakBytes, process.memoryUsage.rss());
    }, 10);
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const body = Readable.toWeb(createReadStream(job.file, { highWaterMark: job.chunkBytes })) as unknown as ReadableStream<Uint8Array>;
    const stored = await storage.put(body, {
      key,
      contentType: 'application/octet-stream',
      visibility: 'private',
      maxBytes: job.sizeBytes,
      expectedSha256: job.sha256,
    });
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    clearInterval(sampler);
    rssPeakBytes = Math.max(rssPeakBytes, process.memoryUsage.rss());
    if (stored.sizeBytes !== job.sizeBytes || stored.sha256 !== job.sha256) throw new Error(`put stored ${JSON.stringify(stored)}`);
    const info = await storage.head(key);
    if (info?.sizeBytes !== job.sizeBytes) throw new Error(`the store holds ${info?.sizeBytes} bytes under ${key}`);
    await storage.delete(key);
    return { seconds, rssBeforeBytes, rssPeakBytes, rssHighWaterBytes: highWaterMark(), cpuSeconds: (cpu.user + cpu.system) / 1e6 };
  } finally {
    await driver.close();
  }
}

process.once('message', (job: PutJob) => {
  run(job).then(
    (result) => process.send?.({ result }, () => process.exit(0)),
    (err: unknown) => process.send?.({ error: err instanceof Error ? (err.stack ?? err.message) : String(err) }, () => process.exit(1)),
  );
});
