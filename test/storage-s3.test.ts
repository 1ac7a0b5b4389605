/**
 * The storage plugin (test kernels with it configured as an operator would) on its s3 and r2
 * drivers, against a real Ceph radosgw this file starts once and stops at the end
 * (test/support/radosgw.ts): it checks SigV4 signatures, presigned URLs' expiry and tampering, and
 * multipart rules, so what passes here is what a real S3 or R2 accepts. The same suite runs for
 * both configurations, each in its own bucket. Every failure path proves, by listing the bucket's
 * objects and open multipart uploads with a separate admin client, that nothing was left behind.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import {
  CreateBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { configure, createLogger, HttpProblem, type Logger } from '../core/index.ts';
import { storageServiceRef, type StorageService } from '../plugins/storage/contract.ts';
import { storagePlugin } from '../plugins/storage/index.ts';
import { createTestKernel, freePort, type TestKernel } from '../host/testing.ts';
import { peerClient, startRadosgw } from './support/radosgw.ts';
import { captureLogger } from './support/capture-logger.ts';
import { until } from './support/until.ts';

const MiB = 1024 * 1024;
const PART = 5 * MiB;
const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

type StorageOptions = Parameters<typeof configure<typeof storagePlugin>>[1];
/** `S3_TEST_DEBUG=1`: the kernels log at debug level to stdout (the driver's clean-ups show). */
const debugLogger = process.env.S3_TEST_DEBUG ? createLogger({ level: 'debug' }) : undefined;
type Peer = Awaited<ReturnType<typeof startRadosgw>>;
let peer: Peer;
let admin: S3Client;

/** One configuration of the suite: which driver, and the options that point it at the peer. */
interface Flavour {
  readonly driver: 's3' | 'r2';
  readonly bucket: string;
  readonly vars: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly bucket: string; readonly endpoint: string };
  readonly options: (overrides?: { accessKeyId?: string; secretAccessKey?: string; bucket?: string; endpoint?: string }) => StorageOptions;
  readonly publicBase: string;
}

const flavours: readonly Flavour[] = [
  {
    driver: 's3',
    bucket: 'empulse-s3-suite',
    vars: { accessKeyId: 'AWS_ACCESS_KEY_ID', secretAccessKey: 'AWS_SECRET_ACCESS_KEY', bucket: 'AWS_S3_BUCKET', endpoint: 'S3_ENDPOINT' },
    publicBase: 'https://cdn.example.test/s3-objects',
    options: (o = {}) => ({
      driver: 's3' as const,
      s3Endpoint: o.endpoint ?? peer.endpoint,
      s3ForcePathStyle: true,
      awsRegion: peer.region,
      awsAccessKeyId: o.accessKeyId ?? peer.accessKeyId,
      awsSecretAccessKey: o.secretAccessKey ?? peer.secretAccessKey,
      awsBucket: o.bucket ?? 'empulse-s3-suite',
      s3PublicUrl: 'https://cdn.example.test/s3-objects/',
      partSizeBytes: PART,
    }),
  },
  {
    driver: 'r2',
    bucket: 'empulse-r2-suite',
    vars: { accessKeyId: 'R2_ACCESS_KEY_ID', secretAccessKey: 'R2_SECRET_ACCESS_KEY', bucket: 'R2_BUCKET_NAME', endpoint: 'R2_ENDPOINT' },
    publicBase: 'https://media.example.test',
    options: (o = {}) => ({
      driver: 'r2' as const,
      r2Endpoint: o.endpoint ?? peer.endpoint,
      r2AccessKeyId: o.accessKeyId ?? peer.accessKeyId,
      r2SecretAccessKey: o.secretAccessKey ?? peer.secretAccessKey,
      r2Bucket: o.bucket ?? 'empulse-r2-suite',
      r2PublicUrl: 'https://media.example.test',
      partSizeBytes: PART,
    }),
  },
];

/** A kernel running the storage plugin against the peer, its `storage` service and its readiness check. */
interface Harness {
  readonly storage: StorageService;
  readiness(): Promise<{ status: string; error?: string }>;
  close(): Promise<void>;
}

async function boot(flavour: Flavour, overrides?: Parameters<Flavour['options']>[0], logger?: Logger): Promise<Harness> {
  const chosen = logger ?? debugLogger;
  const t: TestKernel = await createTestKernel({ plugins: [configure(storagePlugin, flavour.options(overrides))], ...(chosen && { logger: chosen }) });
  return {
    storage: t.service(storageServiceRef),
    readiness: async () => {
      const check = (await t.kernel.health.readiness()).checks.storage;
      assert.ok(check, 'the storage plugin registers a readiness check named storage');
      return { status: check.status, ...(check.error !== undefined && { error: check.error }) };
    },
    close: () => t.close(),
  };
}

/** A web stream of `data` in `chunk`-sized pieces, pulled on demand. */
function streamOf(data: Uint8Array, chunk = 64 * 1024): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= data.byteLength) return controller.close();
      controller.enqueue(data.slice(at, at + chunk));
      at += chunk;
    },
  });
}

/**
 * A client sending `data`, which stops after `stopAfter` bytes: it then either hangs (a client
 * that went quiet; the put is aborted through its signal) or errors (a dropped connection).
 */
function interrupted(data: Uint8Array, stopAfter: number, how: 'hang' | 'error') {
  const state = { sent: 0, cancelled: false as boolean, reason: undefined as unknown };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (state.sent >= stopAfter) {
        if (how === 'error') return controller.error(new Error('client connection reset'));
        return new Promise<void>(() => {}); // never answers again
      }
      const piece = data.slice(state.sent, Math.min(state.sent + 64 * 1024, stopAfter));
      state.sent += piece.byteLength;
      controller.enqueue(piece);
    },
    cancel(reason) {
      state.cancelled = true;
      state.reason = reason;
    },
  });
  return { stream, state };
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  const reader = stream.getReader();
  for (let next = await reader.read(); !next.done; next = await reader.read()) chunks.push(next.value);
  return Buffer.concat(chunks);
}

/** Objects and open multipart uploads under `prefix`, as the store itself lists them. */
async function leftovers(bucket: string, prefix: string): Promise<{ objects: string[]; uploads: string[] }> {
  const objects = await admin.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  const uploads = await admin.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }));
  return {
    objects: (objects.Contents ?? []).map((o) => o.Key ?? '?'),
    uploads: (uploads.Uploads ?? []).map((u) => `${u.Key} ${u.UploadId}`),
  };
}

async function openUploads(bucket: string, key: string): Promise<number> {
  const listed = await admin.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: key }));
  return (listed.Uploads ?? []).length;
}

function isProblem(code: string, status: number) {
  return (err: unknown) => {
    assert.ok(err instanceof HttpProblem, `expected an HttpProblem, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.equal(err.status, status);
    return true;
  };
}

before(async () => {
  peer = await startRadosgw();
  admin = peerClient(peer);
  for (const f of flavours) await admin.send(new CreateBucketCommand({ Bucket: f.bucket }));
});

after(async () => {
  admin?.destroy();
  await peer?.stop();
});

for (const flavour of flavours) {
  describe(`storage on the ${flavour.driver} driver against radosgw`, () => {
    let h: Harness;
    const bucket = flavour.bucket;
    before(async () => {
      h = await boot(flavour);
    });
    after(async () => {
      await h?.close();
    });

    describe('round trips', () => {
      it('stores a small object, reports size and SHA-256 computed while streaming, and reads it back', async () => {
        const data = randomBytes(200_003);
        const key = h.storage.newKey('rt/small', 'bin');
        const stored = await h.storage.put(streamOf(data, 10_000), { key, contentType: 'application/x-test', visibility: 'private', maxBytes: 1 * MiB });
        assert.deepEqual(stored, { key, sizeBytes: data.byteLength, sha256: sha256(data) });

        const info = await h.storage.head(key);
        assert.equal(info?.sizeBytes, data.byteLength);
        assert.equal(info?.contentType, 'application/x-test');
        assert.match(info?.etag ?? '', /^"[0-9a-f]{32}"$/, 'a single PutObject');
        const content = await h.storage.get(key);
        assert.ok(content);
        assert.equal(content.range, undefined);
        assert.equal(sha256(await readAll(content.body)), sha256(data));

        await h.storage.delete(key);
        assert.equal(await h.storage.head(key), undefined);
        assert.equal(await h.storage.get(key), undefined);
        await h.storage.delete(key); // removing a missing object is not an error
      });

      it('stores an empty object', async () => {
        const key = h.storage.newKey('rt/empty');
        const stored = await h.storage.put(streamOf(new Uint8Array(0)), {
          key,
          contentType: 'text/plain',
          visibility: 'private',
          maxBytes: 10,
          expectedSha256: sha256(new Uint8Array(0)),
        });
        assert.deepEqual(stored, { key, sizeBytes: 0, sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' });
        assert.equal((await h.storage.head(key))?.sizeBytes, 0);
        const content = await h.storage.get(key);
        assert.equal((await readAll(content!.body)).byteLength, 0);
        await h.storage.delete(key);
      });

      it('stores a 12 MiB object as a multipart upload of 5 MiB parts, checked against the announced SHA-256', async () => {
        const data = randomBytes(12 * MiB);
        const key = h.storage.newKey('rt/large', 'wav');
        const stored = await h.storage.put(streamOf(data), {
          key,
          contentType: 'audio/wav',
          visibility: 'private',
          maxBytes: 12 * MiB,
          expectedSha256: sha256(data).toUpperCase(),
        });
        assert.deepEqual(stored, { key, sizeBytes: 12 * MiB, sha256: sha256(data) });
        const info = await h.storage.head(key);
        assert.match(info?.etag ?? '', /-3"$/, 'three parts: 5 + 5 + 2 MiB');
        const content = await h.storage.get(key);
        assert.equal(content?.sizeBytes, 12 * MiB);
        assert.ok((await readAll(content!.body)).equals(data));
        assert.deepEqual(await leftovers(bucket, key), { objects: [key], uploads: [] });

        // A range across the first part boundary.
        const ranged = await h.storage.get(key, { range: { start: PART - 10, end: PART + 9 } });
        assert.deepEqual(ranged?.range, { start: PART - 10, end: PART + 9 });
        assert.ok((await readAll(ranged!.body)).equals(data.subarray(PART - 10, PART + 10)));
        await h.storage.delete(key);
      });

      it('writes public objects without an ACL and hands out URLs under the configured public base', async () => {
        const key = h.storage.newKey('art/covers', 'jpg');
        await h.storage.put(streamOf(Buffer.from('cover')), { key, contentType: 'image/jpeg', visibility: 'public', maxBytes: 100 });
        assert.equal(h.storage.publicUrl(key), `${flavour.publicBase}/${key}`);
        const head = await admin.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        assert.equal(head.Metadata?.visibility, 'public');
        await h.storage.delete(key);
      });
    });

    describe('failures leave nothing behind', () => {
      it('a checksum mismatch on a small object: 400 checksum_mismatch, no object', async () => {
        const data = randomBytes(3000);
        const key = h.storage.newKey('fail/mismatch-small');
        await assert.rejects(
          h.storage.put(streamOf(data), { key, contentType: 'application/octet-stream', visibility: 'private', maxBytes: MiB, expectedSha256: sha256(Buffer.from('other')) }),
          isProblem('checksum_mismatch', 400),
        );
        assert.deepEqual(await leftovers(bucket, key), { objects: [], uploads: [] });
      });

      it('a checksum mismatch on a multipart-sized object: the parts already sent are aborted', async () => {
        const data = randomBytes(12 * MiB);
        const key = h.storage.newKey('fail/mismatch-large');
        await assert.rejects(
          h.storage.put(streamOf(data), { key, contentType: 'application/octet-stream', visibility: 'private', maxBytes: 20 * MiB, expectedSha256: 'ab'.repeat(32) }),
          isProblem('checksum_mismatch', 400),
        );
        assert.deepEqual(await leftovers(bucket, key), { objects: [], uploads: [] });
      });

      it('an overflow: 413 payload_too_large at the first byte over the limit, multipart upload aborted', async () => {
        const data = randomBytes(12 * MiB);
        const key = h.storage.newKey('fail/overflow-large');
        const client = interrupted(data, data.byteLength, 'hang');
        await assert.rejects(
          h.storage.put(client.stream, { key, contentType: 'application/octet-stream', visibility: 'private', maxBytes: 11 * MiB }),
          isProblem('payload_too_large', 413),
        );
        assert.ok(client.state.sent <= 11 * MiB + 2 * 64 * 1024, `stopped reading at ${client.state.sent}`);
        assert.ok(client.state.cancelled, 'the body was cancelled');
        assert.deepEqual(await leftovers(bucket, key), { objects: [], uploads: [] });
      });

      it('an overflow on a small object', async () => {
        const key = h.storage.newKey('fail/overflow-small');
        await assert.rejects(
          h.storage.put(streamOf(Buffer.from('0123456789X')), { key, contentType: 'text/plain', visibility: 'private', maxBytes: 10 }),
          isProblem('payload_too_large', 413),
        );
        assert.deepEqual(await leftovers(bucket, key), { objects: [], uploads: [] });
      });

      it('a client that goes quiet mid-stream and is aborted: the open multipart upload is gone when put rejects', async () => {
        const data = randomBytes(12 * MiB);
        const key = h.storage.newKey('fail/abort');
        const client = interrupted(data, 7 * MiB, 'hang');
        const abort = new AbortController();
        const put = h.storage.put(client.stream, { key, contentType: 'application/octet-stream', visibility: 'private', maxBytes: 20 * MiB, signal: abort.signal });
        const settled = put.then(
          () => 'resolved',
          (err: unknown) => err,
        );
        // The multipart upload exists (part 1 was cut at 5 MiB) before the client stops.
        await until('the multipart upload to open', async () => (await openUploads(bucket, key)) === 1);
        await until('the client to stop sending', () => client.state.sent >= 7 * MiB);
        const reason = new Error('client went away');
        abort.abort(reason);
        assert.equal(await settled, reason);
        assert.ok(client.state.cancelled, 'the body was cancelled');
        // No wait: put settles only after the clean-up.
        assert.deepEqual(await leftovers(bucket, key), { objects: [], uploads: [] });
      });

      it('a client whose connection drops mid-stream (the body errors)', async () => {
        const data = randomBytes(8 * MiB);
        const key = h.storage.newKey('fail/reset');
        const client = interrupted(data, 6 * MiB, 'error');
        await assert.rejects(
          h.storage.put(client.stream, { key, contentType: 'application/octet-stream', visibility: 'private', maxBytes: 20 * MiB }),
          /client connection reset/,
        );
        assert.deepEqual(await leftovers(bucket, key), { objects: [], uploads: [] });
      });

      it('an abort before the body has ended on a small object stores nothing', async () => {
        const key = h.storage.newKey('fail/abort-small');
        const client = interrupted(randomBytes(1000), 500, 'hang');
        const abort = new AbortController();
        const put = h.storage.put(client.stream, { key, contentType: 'text/plain', visibility: 'private', maxBytes: 2000, signal: abort.signal });
        await until('the first bytes', () => client.state.sent >= 500);
        abort.abort(new Error('gone'));
        await assert.rejects(put, /gone/);
        assert.deepEqual(await leftovers(bucket, key), { objects: [], uploads: [] });
      });

      for (const size of [1000, 6 * MiB]) {
        it(`an abort just after the body ended (${size} bytes, while it is being committed) leaves no object`, async () => {
          const data = randomBytes(size);
          const key = h.storage.newKey('fail/late-abort');
          const abort = new AbortController();
          let at = 0;
          const body = new ReadableStream<Uint8Array>({
            pull(controller) {
              if (at >= size) {
                controller.close();
                setTimeout(() => abort.abort(new Error('went away at the end')), 1);
                return;
              }
              controller.enqueue(data.slice(at, at + 64 * 1024));
              at += 64 * 1024;
            },
          });
          await assert.rejects(
            h.storage.put(body, { key, contentType: 'application/octet-stream', visibility: 'private', maxBytes: size, signal: abort.signal }),
            /went away at the end/,
          );
          assert.deepEqual(await leftovers(bucket, key), { objects: [], uploads: [] });
        });
      }

      it('a store error (no such bucket) fails the put and cancels the body instead of reading it all', async () => {
        const broken = await boot(flavour, { bucket: 'empulse-no-such-bucket' });
        try {
          // 1 GiB offered, generated as it is read: lib-storage reads at most queueSize parts ahead.
          const piece = randomBytes(64 * 1024);
          const offered = 1024 * MiB;
          const state = { sent: 0, cancelled: false };
          const body = new ReadableStream<Uint8Array>({
            pull(controller) {
              if (state.sent >= offered) return controller.close();
              state.sent += piece.byteLength;
              controller.enqueue(piece.slice());
            },
            cancel() {
              state.cancelled = true;
            },
          });
          const key = broken.storage.newKey('fail/store');
          await assert.rejects(
            broken.storage.put(body, { key, contentType: 'application/octet-stream', visibility: 'private', maxBytes: offered }),
            (err: Error) => err.name === 'NoSuchBucket',
          );
          assert.ok(state.cancelled, 'the body was cancelled');
          assert.ok(state.sent <= 6 * PART, `read ${state.sent} bytes of a failed upload`);
        } finally {
          await broken.close();
        }
      });

      it('after all of the above, the bucket holds no failed object and no multipart upload', async () => {
        assert.deepEqual(await leftovers(bucket, 'fail/'), { objects: [], uploads: [] });
        assert.deepEqual((await leftovers(bucket, '')).uploads, []);
      });
    });

    describe('readiness', () => {
      it('passes against the peer, and its probe object is removed', async () => {
        assert.deepEqual(await h.readiness(), { status: 'ok' });
        assert.deepEqual(await leftovers(bucket, '.empulse-probe/'), { objects: [], uploads: [] });
      });

      it(`a wrong secret fails, naming ${flavour.vars.secretAccessKey}; no secret reaches the logs`, async () => {
        const logs = captureLogger('trace');
        const wrong = await boot(flavour, { secretAccessKey: 'not-the-secret-0000000000000000' }, logs.logger);
        try {
          const report = await wrong.readiness();
          assert.equal(report.status, 'fail');
          assert.match(report.error ?? '', new RegExp(`secret does not match.*${flavour.vars.secretAccessKey}`));
          assert.doesNotMatch(report.error ?? '', /not-the-secret/);
          // A failing put logs too (clean-up of what it could not write).
          await assert.rejects(
            wrong.storage.put(streamOf(randomBytes(6 * MiB)), { key: wrong.storage.newKey('fail/secret'), contentType: 'x/y', visibility: 'private', maxBytes: 10 * MiB }),
            (err: Error) => err.name === 'SignatureDoesNotMatch',
          );
        } finally {
          await wrong.close();
        }
        assert.ok(logs.lines.length > 0);
        assert.doesNotMatch(logs.text(), /not-the-secret/);
        assert.ok(!logs.text().includes(peer.secretAccessKey));
      });

      it(`an unknown access key fails, naming ${flavour.vars.accessKeyId}`, async () => {
        const wrong = await boot(flavour, { accessKeyId: 'EMPULSEUNKNOWNKEY000' });
        try {
          const report = await wrong.readiness();
          assert.equal(report.status, 'fail');
          assert.match(report.error ?? '', new RegExp(`does not know the access key in ${flavour.vars.accessKeyId}`));
        } finally {
          await wrong.close();
        }
      });

      it(`a missing bucket fails, naming ${flavour.vars.bucket}`, async () => {
        const wrong = await boot(flavour, { bucket: 'empulse-no-such-bucket' });
        try {
          const report = await wrong.readiness();
          assert.equal(report.status, 'fail');
          assert.match(report.error ?? '', new RegExp(flavour.vars.bucket));
        } finally {
          await wrong.close();
        }
      });

      it(`an unreachable endpoint (a closed port) fails, naming ${flavour.vars.endpoint}`, async () => {
        const wrong = await boot(flavour, { endpoint: `http://127.0.0.1:${await freePort()}` });
        try {
          const report = await wrong.readiness();
          assert.equal(report.status, 'fail');
          assert.match(report.error ?? '', new RegExp(flavour.vars.endpoint));
          assert.match(report.error ?? '', /ECONNREFUSED/);
        } finally {
          await wrong.close();
        }
      });
    });

    describe('signed URLs and ranges', () => {
      const data = randomBytes(100_000);
      let key: string;
      before(async () => {
        key = h.storage.newKey('signed', 'bin');
        await h.storage.put(streamOf(data), { key, contentType: 'application/octet-stream', visibility: 'private', maxBytes: MiB });
      });
      after(async () => {
        await h.storage.delete(key);
      });

      it('an unsigned request is refused (the object is private)', async () => {
        const res = await fetch(`${peer.endpoint}/${bucket}/${key}`);
        assert.equal(res.status, 403);
        await res.arrayBuffer();
      });

      it('a signed URL downloads the object, with the asked Content-Disposition', async () => {
        const url = await h.storage.signedUrl(key, { ttlSeconds: 60, contentDisposition: 'attachment; filename="master.wav"' });
        const res = await fetch(url);
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('content-disposition'), 'attachment; filename="master.wav"');
        assert.ok(Buffer.from(await res.arrayBuffer()).equals(data));
        const ranged = await fetch(url, { headers: { range: 'bytes=100-199' } });
        assert.equal(ranged.status, 206);
        assert.ok(Buffer.from(await ranged.arrayBuffer()).equals(data.subarray(100, 200)));
      });

      it('an altered signed URL is refused with 403', async () => {
        const url = new URL(await h.storage.signedUrl(key, { ttlSeconds: 60 }));
        const signature = url.searchParams.get('X-Amz-Signature') ?? '';
        const tampered = new URL(url);
        tampered.searchParams.set('X-Amz-Signature', `${signature.slice(0, -1)}${signature.endsWith('0') ? '1' : '0'}`);
        const longer = new URL(url);
        longer.searchParams.set('X-Amz-Expires', '604800');
        const other = new URL(url);
        other.pathname = other.pathname.replace(/[0-9a-f](\.bin)$/, (m, ext: string) => `${m[0] === '0' ? '1' : '0'}${ext}`);
        for (const altered of [tampered, longer, other]) {
          const res = await fetch(altered);
          assert.equal(res.status, 403, altered.toString());
          await res.arrayBuffer();
        }
      });

      it('a signed URL expires', async () => {
        const url = await h.storage.signedUrl(key, { ttlSeconds: 1 });
        await new Promise((r) => setTimeout(r, 2_100));
        const res = await fetch(url);
        assert.equal(res.status, 403);
        await res.arrayBuffer();
      });

      it('reads byte ranges (inclusive, open-ended, clamped) and refuses unsatisfiable ones', async () => {
        const middle = await h.storage.get(key, { range: { start: 10, end: 19 } });
        assert.deepEqual(middle?.range, { start: 10, end: 19 });
        assert.equal(middle?.sizeBytes, data.byteLength);
        assert.ok((await readAll(middle!.body)).equals(data.subarray(10, 20)));

        const tail = await h.storage.get(key, { range: { start: data.byteLength - 5 } });
        assert.deepEqual(tail?.range, { start: data.byteLength - 5, end: data.byteLength - 1 });
        assert.ok((await readAll(tail!.body)).equals(data.subarray(-5)));

        const clamped = await h.storage.get(key, { range: { start: 0, end: 10 * data.byteLength } });
        assert.deepEqual(clamped?.range, { start: 0, end: data.byteLength - 1 });
        assert.equal((await readAll(clamped!.body)).byteLength, data.byteLength);

        await assert.rejects(h.storage.get(key, { range: { start: data.byteLength } }), isProblem('range_not_satisfiable', 416));
        assert.equal(await h.storage.get(h.storage.newKey('signed'), { range: { start: 0 } }), undefined);
      });
    });
  });
}
