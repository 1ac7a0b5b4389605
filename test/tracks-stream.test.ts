/**
 * `POST /v1/tracks` over a real socket, on the local storage driver in a scratch directory: the
 * body arrives chunked (no Content-Length), so size limits, checksums, format checks and
 * disconnects are all decided while the audio streams. The headline: a 200 MiB WAV streams to
 * storage with flat memory, comes back byte for byte through its signed download URL, and every
 * failure (413, client gone, checksum mismatch, MP3 frames missing after a large ID3 tag) leaves
 * no row and no file, temporary files included.
 */
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { serve, type RunningServer } from '../host/server.ts';
import { audioFile, audioStream, expectedDurationSeconds } from './support/audio-fixtures.ts';
import { startWorld, streamUpload, type StreamedUpload, type User, type World } from './support/tracks-world.ts';
import { until } from './support/until.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
const BIG_WAV = 200 * MiB;
const SMALL_MAX_BYTES = 1 * MiB;
const SIGNING_KEY = 'tracks-stream-test-signing-key-0123456789-abcdefgh';
/**
 * The RSS growth a 200 MiB upload may cause, as in body-kinds.test.ts. Client and server share this
 * process, and both allocate a fresh buffer per chunk: V8 lets ~64 MiB of such garbage pile up
 * before collecting it, so a cold process grows by 80-105 MiB on its first large upload whatever
 * its size (measured: the same after 32 MiB as after 200 MiB). A 32 MiB warm-up pays that; after
 * it a 200 MiB upload adds 1-8 MiB, while buffering it, or a stage reading ahead without bound,
 * would add most of the file. Backpressure itself is proven by how far the client gets ahead.
 */
const RSS_GROWTH_BOUND = 64 * MiB;
const WARM_UP_BYTES = 32 * MiB;
/** How far the client may get ahead of the bytes on disk: socket buffers and the pipeline's read-ahead (~6 MiB seen). */
const LEAD_BOUND = 24 * MiB;
/** How long the clean-up of a failed upload (abort, temp file removal) may take. */
const CLEANUP_MS = 5_000;

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
  readonly durationSeconds: number | null;
  readonly status: string;
}

interface ProblemBody {
  readonly code: string;
  readonly status: number;
  readonly detail?: string;
}

function expectTrack(answer: Answer): TrackJson {
  assert.equal(answer.status, 201, answer.body);
  return JSON.parse(answer.body) as TrackJson;
}

function expectProblemAnswer(answer: Answer, status: number, code: string): ProblemBody {
  assert.equal(answer.status, status, answer.body);
  assert.match(String(answer.headers['content-type']), /^application\/problem\+json/);
  const body = JSON.parse(answer.body) as ProblemBody;
  assert.equal(body.code, code);
  assert.equal(body.status, status);
  return body;
}

/** Every file below `dir` (dot-directories such as .tmp and .meta included); directories are not listed. */
async function filesIn(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => !e.isDirectory())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

/** The size of the largest write in progress (a data file under .tmp), 0 when there is none. */
async function largestTempFile(dir: string): Promise<number> {
  let largest = 0;
  for (const name of await filesIn(join(dir, '.tmp'))) {
    try {
      largest = Math.max(largest, (await stat(join(dir, '.tmp', name))).size);
    } catch {
      // renamed or removed meanwhile
    }
  }
  return largest;
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

/** `data` as a web stream of 64 KiB chunks. */
function streamOf(data: Uint8Array, chunk = 64 * KiB): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= data.byteLength) return controller.close();
      controller.enqueue(data.slice(at, at + chunk));
      at += chunk;
    },
  });
}

/** Reads a web stream to its end, hashing as it goes (never holding more than one chunk). */
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

/** A running world: kernel, its socket server and its storage directory. */
interface Served {
  readonly world: World;
  readonly server: RunningServer;
  readonly dir: string;
  readonly artist: User;
}

async function serveWorld(label: string, tracks?: { maxBytes: number }): Promise<Served> {
  const dir = await mkdtemp(join(tmpdir(), `empulse-tracks-${label}-`));
  const world = await startWorld({ storage: { driver: 'local', dir, signingKey: SIGNING_KEY }, ...(tracks && { tracks }) });
  const server = await serve(world.t.kernel, { port: 0, host: '127.0.0.1', shutdownTimeoutMs: 1000 });
  const artist = await world.newArtist(label);
  return { world, server, dir, artist };
}

async function closeWorld(served: Served | undefined): Promise<void> {
  if (!served) return;
  await served.server.shutdown('test over');
  await served.world.close();
  await rm(served.dir, { recursive: true, force: true });
}

/** Nothing of a failed upload remains: no row, and no file under the storage directory (temp files included). */
async function expectNothingLeft(served: Served, what: string): Promise<void> {
  await until(
    `${what}: no row and no file left`,
    async () => (await served.world.rows()).length === 0 && (await filesIn(served.dir)).length === 0,
    CLEANUP_MS,
  ).catch(async (err: unknown) => {
    // Say what was left rather than only that something was.
    assert.deepEqual({ rows: await served.world.rows(), files: await filesIn(served.dir) }, { rows: [], files: [] }, String(err));
  });
}

/** Deletes a track through the API (204) so the next test starts from an empty directory. */
async function deleteTrack(served: Served, id: string): Promise<void> {
  const res = await served.world.t.inject({ method: 'DELETE', url: `/v1/tracks/${id}`, headers: served.artist.headers });
  assert.equal(res.statusCode, 204, res.body);
  await expectNothingLeft(served, 'a deleted track');
}

describe('tracks: streamed uploads on the local driver', () => {
  let big: Served;
  before(async () => {
    big = await serveWorld('stream');
  });
  after(async () => {
    await closeWorld(big);
  });
  // A test that failed must not fail the next ones for what it left: remove it (the test itself
  // has already asserted what it needed to).
  afterEach(async () => {
    for (const row of await big.world.rows()) {
      await big.world.t.inject({ method: 'DELETE', url: `/v1/tracks/${row.id}`, headers: big.artist.headers });
    }
    for (const entry of await readdir(big.dir)) await rm(join(big.dir, entry), { recursive: true, force: true });
  });

  it('streams a 200 MiB WAV with flat memory; the signed download gives back the same bytes', async () => {
    // A warm-up upload first (see RSS_GROWTH_BOUND): the growth measured is what the big upload adds.
    const warm = expectTrack(await streamUpload(big.server.url, big.artist, audioStream('wav', WARM_UP_BYTES)).answer);
    await deleteTrack(big, warm.id);

    const client = clientAudio(audioStream('wav', BIG_WAV));
    const baseline = process.memoryUsage.rss();
    let peak = baseline;
    let lead = 0;
    let statting = false;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage.rss());
      if (statting) return;
      statting = true;
      const sent = client.bytes();
      void largestTempFile(big.dir)
        .then((written) => {
          if (written > 0) lead = Math.max(lead, sent - written);
        })
        .finally(() => (statting = false));
    }, 20);
    const started = performance.now();
    let answer: Answer;
    try {
      answer = await streamUpload(big.server.url, big.artist, client.stream).answer;
    } finally {
      clearInterval(sampler);
    }
    const seconds = (performance.now() - started) / 1000;
    const growth = peak - baseline;
    console.log(
      `# 200 MiB track upload: ${(BIG_WAV / MiB / seconds).toFixed(0)} MiB/s, peak RSS growth ${(growth / MiB).toFixed(1)} MiB, client ahead of the disk by at most ${(lead / MiB).toFixed(1)} MiB`,
    );

    const track = expectTrack(answer);
    assert.equal(client.bytes(), BIG_WAV, 'the client sent the whole file');
    const sentSha256 = client.sha256();
    assert.equal(track.sizeBytes, BIG_WAV);
    assert.equal(track.sha256, sentSha256);
    assert.equal(track.format, 'wav');
    assert.equal(track.contentType, 'audio/wav');
    assert.equal(track.status, 'submitted');
    assert.ok(track.durationSeconds !== null, 'the duration was read while streaming');
    assert.ok(Math.abs(track.durationSeconds - expectedDurationSeconds('wav', BIG_WAV)) <= 0.01, `duration ${track.durationSeconds}`);
    assert.ok(growth < RSS_GROWTH_BOUND, `RSS grew by ${(growth / MiB).toFixed(1)} MiB for a ${BIG_WAV / MiB} MiB upload`);
    assert.ok(lead > 0, 'the sampler saw the write in progress');
    assert.ok(lead < LEAD_BOUND, `the client got ${(lead / MiB).toFixed(1)} MiB ahead of the disk: no backpressure`);

    // The row points at the object, which holds the whole file.
    const [row] = await big.world.rows();
    assert.ok(row);
    assert.equal(row.id, track.id);
    assert.equal((await stat(join(big.dir, ...row.storage_key.split('/')))).size, BIG_WAV);

    // Download: 302 to an absolute signed URL on this server, whose bytes hash to what was sent.
    const redirect = await fetch(`${big.server.url}/v1/tracks/${track.id}/audio`, { headers: big.artist.headers, redirect: 'manual' });
    assert.equal(redirect.status, 302);
    await redirect.body?.cancel();
    const location = redirect.headers.get('location');
    assert.ok(location, 'a Location header');
    assert.equal(new URL(location).origin, new URL(big.server.url).origin, 'the signed URL is on the request origin');
    const download = await fetch(location);
    assert.equal(download.status, 200);
    assert.match(String(download.headers.get('content-disposition')), /^attachment; filename="Night Drive\.wav"/);
    assert.ok(download.body);
    assert.deepEqual(await hashStream(download.body), { bytes: BIG_WAV, sha256: sentSha256 });

    await deleteTrack(big, track.id);
  });

  it('a client that disconnects mid-upload leaves no row and no file; the next upload works', async () => {
    const total = 20 * MiB;
    // Hold the client at just under half until the store has visibly been writing, then cut.
    const client = clientAudio(audioStream('wav', total), [
      { at: total / 2 - 64 * KiB, release: () => until('the store to write the first MiBs', async () => (await largestTempFile(big.dir)) >= 4 * MiB, CLEANUP_MS) },
    ]);
    const upload = streamUpload(big.server.url, big.artist, client.stream, { stopAfterBytes: total / 2 });
    assert.equal(await Promise.race([upload.sent, client.failure]), total / 2);
    await assert.rejects(upload.answer, 'no answer reaches a client that went away');
    await expectNothingLeft(big, 'a disconnected upload');

    // The server is none the worse for it.
    const next = clientAudio(audioStream('wav', 1 * MiB));
    const track = expectTrack(await streamUpload(big.server.url, big.artist, next.stream).answer);
    assert.equal(track.sha256, next.sha256());
    await deleteTrack(big, track.id);
  });

  it('an X-Content-SHA256 that does not match an 8 MiB streamed upload: 400 checksum_mismatch, nothing left', async () => {
    const total = 8 * MiB;
    // Held until the store is writing, so the check at the end has something to undo.
    const client = clientAudio(audioStream('wav', total), [
      { at: 6 * MiB, release: () => until('the store to write', async () => (await largestTempFile(big.dir)) >= 2 * MiB, CLEANUP_MS) },
    ]);
    const wrong = createHash('sha256').update('some other file').digest('hex');
    const upload = streamUpload(big.server.url, big.artist, client.stream, { headers: { 'X-Content-SHA256': wrong } });
    const answer = await Promise.race([upload.answer, client.failure]);
    expectProblemAnswer(answer, 400, 'checksum_mismatch');
    assert.equal(client.bytes(), total, 'decided at the end of the body');
    assert.notEqual(client.sha256(), wrong);
    await expectNothingLeft(big, 'a checksum mismatch');
  });

  it('an MP3 whose 2 MiB ID3 tag is followed by random bytes, not frames: 415 after the store began writing, nothing left', async () => {
    const tagBytes = 2 * MiB;
    // seconds: 0 makes the file the tag alone.
    const tag = audioFile('mp3', { seconds: 0, id3Bytes: tagBytes });
    assert.equal(tag.byteLength, tagBytes);
    const tail = randomBytes(256 * KiB);
    tail[0] = 0x42; // neither zero padding nor an MPEG sync byte: decided at once
    let storedBeforeTail = 0;
    // The tag streams to storage as it arrives; the bytes after it are sent only once the tag is
    // visibly being written, so the 415 must undo a write in progress.
    const client = clientAudio(streamOf(Buffer.concat([tag, tail])), [
      {
        at: tagBytes,
        release: async () => (storedBeforeTail = await until('the tag to be written', async () => largestTempFile(big.dir).then((n) => (n >= 1 * MiB ? n : 0)), CLEANUP_MS)),
      },
    ]);
    const answer = await Promise.race([streamUpload(big.server.url, big.artist, client.stream).answer, client.failure]);
    const problem = expectProblemAnswer(answer, 415, 'unsupported_media_type');
    assert.match(String(problem.detail), /not a WAV, AIFF, FLAC or MP3/);
    assert.ok(storedBeforeTail >= 1 * MiB, `the store had written ${storedBeforeTail} bytes of the tag`);
    await expectNothingLeft(big, 'an MP3 without frames after its tag');
  });
});

describe('tracks: the byte limit (TRACK_MAX_BYTES) while streaming', () => {
  let small: Served;
  before(async () => {
    small = await serveWorld('limit', { maxBytes: SMALL_MAX_BYTES });
  });
  after(async () => {
    await closeWorld(small);
  });

  it('answers 413 to a 3 MiB chunked upload over a 1 MiB limit before the body ends; nothing left', async () => {
    const total = 3 * MiB;
    let upload: StreamedUpload | undefined;
    const client = clientAudio(audioStream('wav', total), [
      // First the store must be writing, so that "nothing left" has something to undo.
      { at: 512 * KiB, release: () => until('the store to write', async () => (await largestTempFile(small.dir)) >= 256 * KiB, CLEANUP_MS) },
      // Then the client stops at 2 MiB until the answer arrives (or 5 s pass): a 413 that waited
      // for the end of the body would come only after the rest was sent.
      {
        at: 2 * MiB,
        release: () => {
          assert.ok(upload);
          return Promise.race([upload.answer.catch(() => {}), sleep(5_000, undefined, { ref: false })]);
        },
      },
    ]);
    upload = streamUpload(small.server.url, small.artist, client.stream);
    let sentAtAnswer = -1;
    const answer = await Promise.race([upload.answer.finally(() => (sentAtAnswer = client.bytes())), client.failure]);
    expectProblemAnswer(answer, 413, 'payload_too_large');
    assert.ok(sentAtAnswer >= 0 && sentAtAnswer <= 2 * MiB, `answered after ${sentAtAnswer} of ${total} bytes: while the body was still streaming`);
    await upload.sent;
    await expectNothingLeft(small, 'an upload over the limit');
  });
});
