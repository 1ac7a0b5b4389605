/**
 * The tracks plugin on the s3 storage driver, against a real Ceph radosgw (test/support/radosgw.ts)
 * that checks SigV4 signatures, presigned URL expiry and multipart rules. A track larger than one
 * part goes up as a multipart upload and comes back through a presigned URL; every failure path
 * (checksum mismatch, invalid metadata sent after the audio, a file that is not audio, a client
 * that goes away) is proven to leave nothing by listing the bucket's objects and open multipart
 * uploads with a separate admin client, and the table's rows.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { request } from 'node:http';
import { CreateBucketCommand, HeadObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, NotFound, type S3Client } from '@aws-sdk/client-s3';
import { serve, type RunningServer } from '../host/server.ts';
import { audioFile, audioStream } from './support/audio-fixtures.ts';
import { expectProblem } from './support/expect-problem.ts';
import { peerClient, s3StorageOptions, startRadosgw, type Radosgw } from './support/radosgw.ts';
import { BOUNDARY, metadata, multipart, startWorld, streamUpload, trackParts, uploadHeaders, type User, type World } from './support/tracks-world.ts';
import { until } from './support/until.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
const BUCKET = 'empulse-tracks';
/** The driver's multipart part size: a 12 MiB track goes up in three parts (5 + 5 + 2 MiB). */
const PART = 5 * MiB;
const TRACK_BYTES = 12 * MiB;
/** How long the clean-up after a client that went away may take (it runs after no answer). */
const CLEANUP_MS = 10_000;

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

interface TrackJson {
  readonly id: string;
  readonly format: string;
  readonly contentType: string;
  readonly sizeBytes: number;
  readonly sha256: string;
}

interface ProblemBody {
  readonly code: string;
  readonly status: number;
  readonly errors?: { path: string; message: string }[];
}

function expectProblemAnswer(answer: Answer, status: number, code: string): ProblemBody {
  assert.equal(answer.status, status, answer.body);
  assert.match(String(answer.headers['content-type']), /^application\/problem\+json/);
  const body = JSON.parse(answer.body) as ProblemBody;
  assert.equal(body.code, code);
  assert.equal(body.status, status);
  return body;
}

/** The client stops after `at` bytes (a multiple of the source's 64 KiB chunks) until `release()` resolves. */
interface Hold {
  readonly at: number;
  readonly release: () => Promise<unknown>;
}

/**
 * The client's side of the audio: `source` as the uploader reads it, hashed and counted, with the
 * client holding where `holds` say. `failure` rejects when a hold's release fails (its `until`
 * timed out): race it with the answer so the test fails with that reason at once.
 */
function clientAudio(source: ReadableStream<Uint8Array>, holds: readonly Hold[] = []) {
  const hash = createHash('sha256');
  let bytes = 0;
  const pending = [...holds].sort((a, b) => a.at - b.at);
  let fail!: (err: unknown) => void;
  const failure = new Promise<never>((_, reject) => (fail = reject));
  failure.catch(() => {});
  const reader = source.getReader();
  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        while (pending.length > 0 && bytes >= pending[0]!.at) {
          try {
            await pending.shift()!.release();
          } catch (err) {
            fail(err);
            throw err;
          }
        }
        const next = await reader.read();
        if (next.done) return controller.close();
        hash.update(next.value);
        bytes += next.value.byteLength;
        controller.enqueue(next.value);
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  );
  return { stream, failure, bytes: () => bytes, sha256: () => hash.digest('hex') };
}

/** POSTs a chunked multipart body given piece by piece (a piece may wait before it is produced). */
function rawUpload(baseUrl: string, user: User, body: AsyncIterable<Uint8Array | string>): Promise<Answer> {
  return new Promise<Answer>((resolve, reject) => {
    const req = request(`${baseUrl}/v1/tracks`, { method: 'POST', headers: { ...uploadHeaders(user), 'transfer-encoding': 'chunked' } });
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    void (async () => {
      for await (const piece of body) if (!req.write(piece)) await once(req, 'drain');
      req.end();
    })().catch(reject);
  });
}

/** Reads a web stream to its end, hashing as it goes. */
async function hashStream(body: ReadableStream<Uint8Array>): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  const reader = body.getReader();
  for (let next = await reader.read(); !next.done; next = await reader.read()) {
    hash.update(next.value);
    bytes += next.value.byteLength;
  }
  return { bytes, sha256: hash.digest('hex') };
}

let peer: Radosgw;
let admin: S3Client;
let world: World;
let server: RunningServer;
let artist: User;

/** The bucket as the store itself lists it: every object, and every multipart upload still open. */
async function bucketState(): Promise<{ objects: string[]; uploads: string[] }> {
  const objects = await admin.send(new ListObjectsV2Command({ Bucket: BUCKET }));
  const uploads = await admin.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }));
  return {
    objects: (objects.Contents ?? []).map((o) => o.Key ?? '?').sort(),
    uploads: (uploads.Uploads ?? []).map((u) => `${u.Key} ${u.UploadId}`),
  };
}

const openUploads = async (): Promise<number> => (await bucketState()).uploads.length;

const rowIds = async (): Promise<string[]> => (await world.rows()).map((r) => r.id);

/** What the bucket and the table held before a failing upload, to compare with afterwards. */
async function snapshot(): Promise<{ bucket: { objects: string[]; uploads: string[] }; rows: string[] }> {
  const state = { bucket: await bucketState(), rows: await rowIds() };
  assert.deepEqual(state.bucket.uploads, [], 'no multipart upload open before the test');
  return state;
}

async function expectUnchanged(before: Awaited<ReturnType<typeof snapshot>>): Promise<void> {
  assert.deepEqual({ bucket: await bucketState(), rows: await rowIds() }, before);
}

before(async () => {
  peer = await startRadosgw();
  admin = peerClient(peer);
  await admin.send(new CreateBucketCommand({ Bucket: BUCKET }));
  world = await startWorld({
    storage: { ...s3StorageOptions(peer, BUCKET), partSizeBytes: PART },
  });
  server = await serve(world.t.kernel, { port: 0, host: '127.0.0.1', shutdownTimeoutMs: 1000 });
  artist = await world.newArtist('s3');
});

after(async () => {
  await server?.shutdown('test over');
  await world?.close();
  admin?.destroy();
  await peer?.stop();
});

describe('tracks on the s3 driver against radosgw', () => {
  it('stores a 12 MiB WAV as a multipart upload and serves it back through a presigned URL of at most 15 minutes', async () => {
    const client = clientAudio(audioStream('wav', TRACK_BYTES));
    const answer = await streamUpload(server.url, artist, client.stream).answer;
    assert.equal(answer.status, 201, answer.body);
    const track = JSON.parse(answer.body) as TrackJson;
    const sent = client.sha256();
    assert.equal(track.sizeBytes, TRACK_BYTES);
    assert.equal(track.sha256, sent);
    assert.equal(track.format, 'wav');

    // The object under the row's key, as the store itself describes it.
    const row = (await world.rows()).find((r) => r.id === track.id);
    assert.ok(row, 'a row for the track');
    assert.match(row.storage_key, new RegExp(`^tracks/${artist.id}/[0-9a-f-]{36}\\.wav$`));
    const head = await admin.send(new HeadObjectCommand({ Bucket: BUCKET, Key: row.storage_key }));
    assert.equal(head.ContentType, 'audio/wav');
    assert.equal(head.ContentLength, TRACK_BYTES);
    assert.match(head.ETag ?? '', /-3"$/, 'a multipart upload of three parts');
    assert.deepEqual((await bucketState()).uploads, [], 'the multipart upload was completed, not left open');

    const redirect = await fetch(`${server.url}/v1/tracks/${track.id}/audio`, { headers: artist.headers, redirect: 'manual' });
    assert.equal(redirect.status, 302);
    await redirect.body?.cancel();
    const location = new URL(redirect.headers.get('location') ?? '');
    assert.equal(location.origin, new URL(peer.endpoint).origin, 'presigned on the store itself');
    assert.equal(decodeURIComponent(location.pathname), `/${BUCKET}/${row.storage_key}`);
    assert.ok(location.searchParams.get('X-Amz-Signature'), 'a SigV4 presigned URL');
    const expires = Number(location.searchParams.get('X-Amz-Expires'));
    assert.ok(expires > 0 && expires <= 900, `X-Amz-Expires=${expires}: at most 15 minutes`);

    const download = await fetch(location);
    assert.equal(download.status, 200);
    assert.equal(download.headers.get('content-type'), 'audio/wav');
    assert.match(String(download.headers.get('content-disposition')), /^attachment; filename="Night Drive\.wav"/);
    assert.ok(download.body);
    assert.deepEqual(await hashStream(download.body), { bytes: TRACK_BYTES, sha256: sent });
  });

  describe('failures leave no object, no open multipart upload and no row', () => {
    it('a checksum mismatch on a 12 MiB upload: 400 checksum_mismatch, the open multipart upload aborted', async () => {
      const before = await snapshot();
      // Held before the end until the multipart upload is open, so there is something to abort.
      const client = clientAudio(audioStream('wav', TRACK_BYTES), [
        { at: 11 * MiB, release: () => until('the multipart upload to open', async () => (await openUploads()) === 1, CLEANUP_MS) },
      ]);
      const wrong = createHash('sha256').update('another file').digest('hex');
      const upload = streamUpload(server.url, artist, client.stream, { headers: { 'X-Content-SHA256': wrong } });
      const answer = await Promise.race([upload.answer, client.failure]);
      expectProblemAnswer(answer, 400, 'checksum_mismatch');
      assert.equal(client.bytes(), TRACK_BYTES);
      // No wait: the clean-up is done before the answer leaves.
      await expectUnchanged(before);
    });

    it('invalid metadata sent after the audio: 422 naming metadata fields, the stored object removed', async () => {
      const before = await snapshot();
      const audio = clientAudio(audioStream('wav', TRACK_BYTES));
      let storedKey: string | undefined;
      const invalid = JSON.stringify(metadata({ title: '   ', explicit: 'yes', releaseDate: '2027-02-30' }));
      async function* body(): AsyncGenerator<Uint8Array | string> {
        yield `--${BOUNDARY}\r\nContent-Disposition: form-data; name="audio"; filename="master.wav"\r\nContent-Type: audio/wav\r\n\r\n`;
        const reader = audio.stream.getReader();
        for (let next = await reader.read(); !next.done; next = await reader.read()) yield next.value;
        yield `\r\n--${BOUNDARY}\r\nContent-Disposition: form-data; name="metadata"\r\nContent-Type: application/json\r\n\r\n`;
        // The audio part has ended: its upload completes while the metadata is still on its way.
        storedKey = await until(
          'the audio to be stored',
          async () => (await bucketState()).objects.find((key) => !before.bucket.objects.includes(key)),
          CLEANUP_MS,
        );
        yield invalid;
        yield `\r\n--${BOUNDARY}--\r\n`;
      }
      const answer = await rawUpload(server.url, artist, body());
      const problem = expectProblemAnswer(answer, 422, 'validation_failed');
      assert.ok(storedKey?.startsWith(`tracks/${artist.id}/`), `the audio was stored first (${storedKey})`);
      const paths = (problem.errors ?? []).map((e) => e.path).sort();
      assert.deepEqual(paths, ['metadata.explicit', 'metadata.releaseDate', 'metadata.title']);
      await expectUnchanged(before);
    });

    it('a file that is not audio: 415 unsupported_media_type', async () => {
      const before = await snapshot();
      // A ZIP archive declared as audio/wav: the bytes decide, not the declared type.
      const zip = Buffer.concat([Buffer.from('PK\u0003\u0004'), randomBytes(1 * MiB)]);
      const res = await world.t.inject({ method: 'POST', url: '/v1/tracks', headers: uploadHeaders(artist), payload: multipart(trackParts(zip)) });
      expectProblem(res, 415, 'unsupported_media_type');
      await expectUnchanged(before);
    });

    it('a client that goes away midway through a 20 MiB upload', async () => {
      const before = await snapshot();
      const total = 20 * MiB;
      // Cut at half, once the multipart upload is open and has parts.
      const client = clientAudio(audioStream('wav', total), [
        { at: total / 2 - 64 * KiB, release: () => until('the multipart upload to open', async () => (await openUploads()) === 1, CLEANUP_MS) },
      ]);
      const upload = streamUpload(server.url, artist, client.stream, { stopAfterBytes: total / 2 });
      assert.equal(await Promise.race([upload.sent, client.failure]), total / 2);
      await assert.rejects(upload.answer, 'no answer reaches a client that went away');
      await until(
        'the open multipart upload to be aborted',
        async () => {
          const state = await bucketState();
          return state.uploads.length === 0 && JSON.stringify(state.objects) === JSON.stringify(before.bucket.objects);
        },
        CLEANUP_MS,
      ).catch(() => {});
      await expectUnchanged(before);
    });
  });

  it('DELETE /v1/tracks/:id by its artist while submitted: 204, and the object is gone from the bucket', async () => {
    const before = await snapshot();
    const res = await world.t.inject({
      method: 'POST',
      url: '/v1/tracks',
      headers: uploadHeaders(artist),
      payload: multipart(trackParts(audioFile('wav', { seconds: 2 }))),
    });
    assert.equal(res.statusCode, 201, res.body);
    const track = res.json() as TrackJson;
    const row = (await world.rows()).find((r) => r.id === track.id);
    assert.ok(row);
    const head = await admin.send(new HeadObjectCommand({ Bucket: BUCKET, Key: row.storage_key }));
    assert.equal(head.ContentLength, track.sizeBytes);

    const deleted = await world.t.inject({ method: 'DELETE', url: `/v1/tracks/${track.id}`, headers: artist.headers });
    assert.equal(deleted.statusCode, 204, deleted.body);
    await assert.rejects(admin.send(new HeadObjectCommand({ Bucket: BUCKET, Key: row.storage_key })), NotFound);
    await expectUnchanged(before);
    const gone = await world.t.inject({ url: `/v1/tracks/${track.id}`, headers: artist.headers });
    expectProblem(gone, 404, 'not_found');
  });
});
