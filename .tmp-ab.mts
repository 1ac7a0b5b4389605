import { startRadosgw } from './test/support/radosgw.ts';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createReadStream, writeFileSync, rmSync } from 'node:fs';
import { Readable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import * as v from 'valibot';
import { verifyStream } from './plugins/storage/verify-stream.ts';
import { createS3Driver } from './plugins/storage/s3-driver.ts';
import { storageConfigSchema } from './plugins/storage/config.ts';
import { createLogger } from './core/index.ts';
const MiB = 1024 * 1024;
const file = '/tmp/s3work/ab.bin';
const size = 512 * MiB;
{ const b = randomBytes(8 * MiB); const parts = []; for (let i = 0; i < size / b.length; i++) parts.push(b); writeFileSync(file, Buffer.concat(parts)); }
const p = await startRadosgw({ memstoreBytes: 3 * 1024 * MiB });
const c = new S3Client({ endpoint: p.endpoint, region: p.region, forcePathStyle: true, credentials: { accessKeyId: p.accessKeyId, secretAccessKey: p.secretAccessKey }, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
await c.send(new CreateBucketCommand({ Bucket: 'rawb' }));
const d = createS3Driver(v.parse(storageConfigSchema, { driver: 's3', s3Endpoint: p.endpoint, s3ForcePathStyle: true, awsRegion: p.region, awsAccessKeyId: p.accessKeyId, awsSecretAccessKey: p.secretAccessKey, awsBucket: 'rawb' }), 's3', createLogger({ level: 'warn' }));
const web = () => Readable.toWeb(createReadStream(file)) as unknown as ReadableStream<Uint8Array>;
const runs: Record<string, () => Promise<unknown>> = {
  'raw node stream': () => new Upload({ client: c, params: { Bucket: 'rawb', Key: 'a', Body: createReadStream(file) }, partSize: 8 * MiB, queueSize: 4 }).done(),
  'raw web stream': () => new Upload({ client: c, params: { Bucket: 'rawb', Key: 'b', Body: web() }, partSize: 8 * MiB, queueSize: 4 }).done(),
  'raw web+verify': () => new Upload({ client: c, params: { Bucket: 'rawb', Key: 'c', Body: verifyStream(web(), 1e12, undefined).stream }, partSize: 8 * MiB, queueSize: 4 }).done(),
  'driver (web+verify)': () => d.write('d', verifyStream(web(), 1e12, undefined).stream, { contentType: 'x', visibility: 'private' }, new AbortController().signal),
};
for (let i = 0; i < 2; i++) for (const [name, run] of Object.entries(runs)) {
  const t = performance.now(); await run();
  console.log(name, Math.round(size / 1e6 / ((performance.now() - t) / 1000)), 'MB/s');
}
c.destroy(); await d.close(); await p.stop(); rmSync(file);
process.exit(0);
