/**
 * Route body kinds for uploads (`streamBody`, `multipartBody`), over a real socket where it
 * matters (chunked bodies, early answers, idle clients, disconnects, memory) and through inject
 * where a whole body is enough: byte limits count the bytes actually read, media types, broken
 * multipart, text checks on fields and file names, and the upload time rules. The headline: a
 * 200 MiB file part streams through a slow handler with flat memory, and a file over its limit is
 * answered 413 while it streams, with no Content-Length to go by.
 */
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { definePlugin, HttpProblem, multipartBody, streamBody, type HttpContext, type MultipartBody } from '../core/index.ts';
import { createTestKernel, type TestKernel } from '../host/testing.ts';
import { serve, type RunningServer } from '../host/server.ts';
import { expectProblem } from './support/expect-problem.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
const STREAM_LIMIT = 1 * MiB;
const BIG_FILE = 200 * MiB;
const CAPPED_FILE_LIMIT = 8 * MiB;
/**
 * The RSS growth a 200 MiB upload may cause. Most of what it measures is garbage awaiting
 * collection (buffers already passed on): Node collects within a few MiB here, Deno's collector
 * later (~70 MiB seen). Backpressure itself is proven by how far the client gets ahead.
 */
const RSS_GROWTH_BOUND = 'Deno' in globalThis ? 128 * MiB : 64 * MiB;

/** What the handlers saw, for the assertions (reset before each test). */
interface Observed {
  calls: number;
  bytes: number;
  error: unknown;
  signalAborted: boolean;
  done: Deferred<void>;
  /** Holds the swallowing handler back until the test has its answer. */
  release: Deferred<void>;
}
let observed: Observed;
const resetObserved = (): void => {
  observed = { calls: 0, bytes: 0, error: undefined, signalAborted: false, done: deferred(), release: deferred() };
};
resetObserved();

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
}
function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * Reads a web stream to its end, hashing and counting; records what it saw (including the error
 * the stream ends with) and rethrows that error. `pauseEvery` chunks it sleeps 1 ms: a slow
 * consumer, so that backpressure (not buffering) is what keeps memory flat.
 */
async function consume(http: HttpContext<unknown>, stream: ReadableStream<Uint8Array>, pauseEvery = 0): Promise<{ bytes: number; sha256: string }> {
  const reader = stream.getReader();
  const hash = createHash('sha256');
  let bytes = 0;
  let chunks = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      hash.update(value);
      bytes += value.byteLength;
      observed.bytes = bytes;
      if (pauseEvery > 0 && ++chunks % pauseEvery === 0) await sleep(1);
    }
    return { bytes, sha256: hash.digest('hex') };
  } catch (err) {
    observed.error = err;
    observed.signalAborted = http.state.signal.aborted;
    throw err;
  } finally {
    observed.done.resolve();
  }
}

/** Every part in order; file parts read through (or, with `skipFiles`, left unread). */
async function collect(http: HttpContext<MultipartBody>, options: { skipFiles?: boolean; pauseEvery?: number } = {}): Promise<unknown[]> {
  const parts: unknown[] = [];
  const skipped: ReadableStream<Uint8Array>[] = [];
  try {
    for await (const part of http.state.body) {
      if (part.kind === 'field') parts.push({ kind: 'field', name: part.name, value: part.value });
      else if (options.skipFiles) {
        skipped.push(part.stream);
        parts.push({ kind: 'file', name: part.name, filename: part.filename, mediaType: part.mediaType });
      } else {
        const { bytes, sha256 } = await consume(http, part.stream, options.pauseEvery);
        parts.push({ kind: 'file', name: part.name, filename: part.filename, mediaType: part.mediaType, bytes, sha256 });
      }
    }
  } catch (err) {
    observed.error ??= err;
    observed.signalAborted = http.state.signal.aborted;
    throw err;
  }
  // A skipped stream errors when read after all, rather than passing for an empty file.
  for (const stream of skipped) await assert.rejects(stream.getReader().read(), /skipped/);
  return parts;
}

const uploads = definePlugin({
  id: 'uploads',
  version: '1.0.0',
  routes(router) {
    router.post('/v1/uploads/stream', { body: streamBody({ maxBytes: STREAM_LIMIT, idleTimeoutMs: 400 }) }, async (http) => {
      observed.calls++;
      http.body = await consume(http, http.state.body);
    });
    router.post('/v1/uploads/swallow', { body: streamBody({ maxBytes: 1024 }) }, async (http) => {
      observed.calls++;
      try {
        await consume(http, http.state.body);
      } catch {
        // A handler (or a storage call) that swallows the stream's error and carries on.
      }
      await observed.release.promise;
      http.body = { swallowed: true };
    });
    router.post('/v1/uploads/typed', { body: streamBody({ maxBytes: 1024, mediaTypes: ['audio/*', 'application/octet-stream'] }) }, async (http) => {
      observed.calls++;
      http.body = await consume(http, http.state.body);
    });
    router.post(
      '/v1/uploads/slow',
      { body: streamBody({ maxBytes: STREAM_LIMIT, idleTimeoutMs: 1000 }), timeoutMs: 600 },
      async (http) => {
        observed.calls++;
        http.body = await consume(http, http.state.body);
      },
    );
    const form = multipartBody({
      maxFileBytes: 256 * KiB,
      maxFiles: 2,
      maxFieldBytes: 32,
      maxFields: 3,
      maxTotalBytes: 1 * MiB,
      fileMediaTypes: ['audio/*', 'application/octet-stream'],
      multilineFields: ['notes'],
    });
    router.post('/v1/uploads/form', { body: form }, async (http) => {
      observed.calls++;
      http.body = { parts: await collect(http) };
    });
    router.post('/v1/uploads/names', { body: form }, async (http) => {
      observed.calls++;
      http.body = { parts: await collect(http, { skipFiles: true }) };
    });
    router.post(
      '/v1/uploads/required',
      { body: multipartBody({ maxFileBytes: KiB, maxFiles: 2, maxFieldBytes: 32, maxFields: 2, maxTotalBytes: 16 * KiB, requiredFiles: ['audio', 'cover'] }) },
      async (http) => {
        observed.calls++;
        http.body = { parts: await collect(http) };
      },
    );
    router.post(
      '/v1/uploads/big',
      { body: multipartBody({ maxFileBytes: 256 * MiB, maxFiles: 1, maxFieldBytes: KiB, maxFields: 2, maxTotalBytes: 256 * MiB + 64 * KiB }) },
      async (http) => {
        observed.calls++;
        http.status = 201;
        http.body = { parts: await collect(http, { pauseEvery: 2 }) };
      },
    );
    router.post(
      '/v1/uploads/capped',
      { body: multipartBody({ maxFileBytes: CAPPED_FILE_LIMIT, maxFiles: 1, maxFieldBytes: KiB, maxFields: 2, maxTotalBytes: 1024 * MiB }) },
      async (http) => {
        observed.calls++;
        http.body = { parts: await collect(http) };
      },
    );
  },
});

// ---------------------------------------------------------------------------------------------
// A client that writes what a test says, the way it says (chunked or not, slowly, not at all),
// respects socket backpressure, and stops writing the moment an answer arrives.

interface RawAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  json(): Record<string, unknown> & { code?: string; detail?: string; errors?: { path: string; message: string }[] };
}

interface RawExchange {
  /** The answer (rejects if the socket closed without one). */
  readonly answer: Promise<RawAnswer>;
  /** Body bytes written when the answer arrived (or when the writer stopped). */
  readonly sentAtAnswer: () => number;
  /** Resolves when the server (or the client) closed the socket. */
  readonly closed: Promise<void>;
  readonly socket: Socket;
  /** All body bytes written so far. */
  readonly sent: () => number;
  /** Resolves once the writer has stopped (body exhausted, answer in, or socket gone). */
  readonly written: Promise<void>;
}

function rawRequest(
  server: RunningServer,
  path: string,
  headers: Record<string, string>,
  body: AsyncIterable<Uint8Array>,
  { chunked }: { chunked: boolean },
): RawExchange {
  const { port, hostname } = new URL(server.url);
  const socket = connect({ host: hostname, port: Number(port) });
  socket.on('error', () => {}); // a reset after the answer is one way of closing
  let received = Buffer.alloc(0);
  let answered: RawAnswer | undefined;
  let sent = 0;
  let sentAtAnswer = -1;
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const answer = new Promise<RawAnswer>((resolve, reject) => {
    socket.on('data', (data: Buffer) => {
      received = Buffer.concat([received, data]);
      const parsed = parseAnswer(received);
      if (parsed && !answered) {
        answered = parsed;
        sentAtAnswer = sent;
        resolve(parsed);
      }
    });
    socket.once('close', () => {
      if (!answered) reject(new Error(`the socket closed without a complete answer (${received.length} bytes received)`));
    });
  });
  answer.catch(() => {});
  const head = [
    `POST ${path} HTTP/1.1`,
    `Host: ${hostname}:${port}`,
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
    ...(chunked ? ['Transfer-Encoding: chunked'] : []),
    '',
    '',
  ].join('\r\n');
  const written = (async () => {
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(head);
    const stop = Promise.race([closed, answer.then(() => {}, () => {})]);
    for await (const chunk of body) {
      if (answered || socket.destroyed || !socket.writable) break;
      let ok: boolean;
      if (chunked) {
        socket.write(`${chunk.byteLength.toString(16)}\r\n`);
        socket.write(chunk);
        ok = socket.write('\r\n');
      } else {
        ok = socket.write(chunk);
      }
      sent += chunk.byteLength;
      if (!ok) await Promise.race([new Promise((resolve) => socket.once('drain', resolve)), stop]);
    }
    if (chunked && !answered && !socket.destroyed && socket.writable) socket.write('0\r\n\r\n');
  })();
  written.catch(() => {});
  return { answer, sentAtAnswer: () => (sentAtAnswer === -1 ? sent : sentAtAnswer), closed, socket, sent: () => sent, written };
}

function parseAnswer(bytes: Buffer): RawAnswer | undefined {
  const end = bytes.indexOf('\r\n\r\n');
  if (end === -1) return undefined;
  const [statusLine, ...lines] = bytes.subarray(0, end).toString('latin1').split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = Number(headers['content-length'] ?? 0);
  if (bytes.length < end + 4 + length) return undefined;
  const body = bytes.subarray(end + 4, end + 4 + length).toString('utf8');
  return { status: Number(statusLine!.split(' ')[1]), headers, body, json: () => JSON.parse(body) };
}

// ---------------------------------------------------------------------------------------------
// Bodies, generated as they are sent: a 200 MiB upload never exists in the test's memory.

const PATTERN = randomBytes(MiB);

/** `total` bytes of the pattern in 64 KiB chunks, hashed as they go out; `pauseAfter` bytes, then it waits. */
function payload(total: number, hash?: ReturnType<typeof createHash>, wait?: { after: number; until: Promise<unknown> }): AsyncIterable<Uint8Array> {
  return {
    async *[Symbol.asyncIterator]() {
      let offset = 0;
      while (offset < total) {
        if (wait && offset >= wait.after) {
          await wait.until;
          return;
        }
        const at = offset % PATTERN.length;
        const chunk = PATTERN.subarray(at, at + Math.min(64 * KiB, total - offset, PATTERN.length - at));
        hash?.update(chunk);
        offset += chunk.byteLength;
        yield chunk;
      }
    },
  };
}

type PartSpec =
  | { readonly name: string; readonly value: string }
  | { readonly name: string; readonly filename: string; readonly type: string; readonly content: AsyncIterable<Uint8Array> | Uint8Array };

const BOUNDARY = '----empulse-test-boundary-7f3a';
const multipartType = `multipart/form-data; boundary=${BOUNDARY}`;

function multipart(parts: readonly PartSpec[], { close = true }: { close?: boolean } = {}): AsyncIterable<Uint8Array> {
  return {
    async *[Symbol.asyncIterator]() {
      for (const part of parts) {
        if ('value' in part) {
          yield Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="${part.name}"\r\n\r\n${part.value}\r\n`);
        } else {
          yield Buffer.from(
            `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${part.name}"; filename="${part.filename}"\r\nContent-Type: ${part.type}\r\n\r\n`,
          );
          if (part.content instanceof Uint8Array) yield part.content;
          else yield* part.content;
          yield Buffer.from('\r\n');
        }
      }
      if (close) yield Buffer.from(`--${BOUNDARY}--\r\n`);
    },
  };
}

async function whole(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks);
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

// ---------------------------------------------------------------------------------------------

describe('route body kinds', () => {
  let t: TestKernel;
  let server: RunningServer;

  before(async () => {
    // A whole-request budget far below what the big upload takes: upload routes must not use it.
    t = await createTestKernel({ plugins: [uploads], database: 'pglite', http: { requestTimeoutMs: 300 } });
    server = await serve(t.kernel, { port: 0, host: '127.0.0.1', shutdownTimeoutMs: 1000 });
  });
  after(async () => {
    await server?.shutdown('test over');
    await t?.close();
  });
  beforeEach(() => resetObserved());

  describe('stream bodies', () => {
    it('hands the handler exactly the bytes sent, with Content-Length and chunked', async () => {
      const body = PATTERN.subarray(0, 300 * KiB + 7);
      const sized = await t.inject({ method: 'POST', url: '/v1/uploads/stream', headers: { 'content-type': 'application/octet-stream' }, payload: body });
      assert.equal(sized.statusCode, 200, sized.body);
      assert.deepEqual(sized.json(), { bytes: body.length, sha256: sha256(body) });

      const hash = createHash('sha256');
      const exchange = rawRequest(server, '/v1/uploads/stream', {}, payload(STREAM_LIMIT, hash), { chunked: true });
      const answer = await exchange.answer;
      assert.equal(answer.status, 200, answer.body);
      assert.deepEqual(answer.json(), { bytes: STREAM_LIMIT, sha256: hash.digest('hex') }, 'exactly the limit is still accepted');
    });

    it('answers 413 the moment a chunked body passes the limit; the handler never sees a byte beyond it', async () => {
      const total = 64 * MiB;
      const exchange = rawRequest(server, '/v1/uploads/stream', {}, payload(total), { chunked: true });
      const answer = await exchange.answer;
      assert.equal(answer.status, 413, answer.body);
      assert.equal(answer.json().code, 'payload_too_large');
      assert.equal(answer.headers.connection, 'close');
      assert.ok(exchange.sentAtAnswer() < 16 * MiB, `answered after ${exchange.sentAtAnswer()} of ${total} bytes: while the client was still sending`);
      await observed.done.promise;
      assert.ok(observed.bytes <= STREAM_LIMIT, `the handler read ${observed.bytes} bytes`);
      assert.ok(observed.error instanceof HttpProblem && observed.error.status === 413, "the handler's stream errors with the 413");
      assert.equal(observed.signalAborted, true);
      await exchange.closed;
    });

    it('answers with the body problem at once, even while the handler swallows the stream error and carries on', async () => {
      const exchange = rawRequest(server, '/v1/uploads/swallow', {}, payload(4 * KiB), { chunked: true });
      try {
        const answer = await Promise.race([exchange.answer, sleep(5000).then(() => assert.fail('no answer while the handler was still busy'))]);
        assert.equal(answer.status, 413, answer.body);
        assert.equal(answer.json().code, 'payload_too_large');
        await observed.done.promise;
        assert.ok(observed.error instanceof HttpProblem && observed.error.status === 413);
      } finally {
        observed.release.resolve();
        exchange.socket.destroy();
      }
    });

    it('refuses a declared Content-Length over the limit before reading a byte', async () => {
      const exchange = rawRequest(server, '/v1/uploads/stream', { 'Content-Length': String(STREAM_LIMIT + 1) }, payload(0), { chunked: false });
      const answer = await exchange.answer;
      assert.equal(answer.status, 413, answer.body);
      assert.equal(answer.json().code, 'payload_too_large');
      assert.equal(answer.headers.connection, 'close', 'the unread body is not drained to keep the connection');
      assert.equal(observed.calls, 0, 'the handler never ran');
      await exchange.closed;
    });

    it('refuses a media type the route does not accept with 415', async () => {
      const wrong = await t.inject({ method: 'POST', url: '/v1/uploads/typed', headers: { 'content-type': 'text/plain' }, payload: 'hello' });
      expectProblem(wrong, 415, 'unsupported_media_type');
      const right = await t.inject({ method: 'POST', url: '/v1/uploads/typed', headers: { 'content-type': 'audio/wav; rate=44100' }, payload: 'RIFF' });
      assert.equal(right.statusCode, 200, right.body);
      assert.equal(observed.calls, 1);
    });

    it('answers 503 request_timeout and closes the connection when the client goes idle mid-body', async () => {
      const release = deferred<void>();
      const exchange = rawRequest(server, '/v1/uploads/stream', {}, payload(STREAM_LIMIT, undefined, { after: 128 * KiB, until: release.promise }), {
        chunked: true,
      });
      try {
        const started = Date.now();
        const answer = await exchange.answer;
        assert.equal(answer.status, 503, answer.body);
        assert.equal(answer.json().code, 'request_timeout');
        assert.match(String(answer.json().detail), /No bytes of the body arrived for 400 ms/);
        assert.equal(answer.headers.connection, 'close');
        assert.ok(Date.now() - started < 5000);
        const closed = await Promise.race([exchange.closed.then(() => true), sleep(3000).then(() => false)]);
        assert.ok(closed, 'the server closed the connection');
        await observed.done.promise;
        assert.ok(observed.error instanceof HttpProblem && observed.error.code === 'request_timeout');
        assert.equal(observed.bytes, 128 * KiB);
      } finally {
        release.resolve();
        exchange.socket.destroy();
      }
    });

    it('answers 503 at the route overall cap even while bytes keep trickling (no idle gap)', async () => {
      const trickle: AsyncIterable<Uint8Array> = {
        async *[Symbol.asyncIterator]() {
          for (let i = 0; i < 50; i++) {
            yield Buffer.from('x');
            await sleep(100);
          }
        },
      };
      const exchange = rawRequest(server, '/v1/uploads/slow', {}, trickle, { chunked: true });
      try {
        const answer = await exchange.answer;
        assert.equal(answer.status, 503, answer.body);
        assert.equal(answer.json().code, 'request_timeout');
        assert.match(String(answer.json().detail), /600 ms/);
        assert.equal(answer.headers.connection, 'close');
        assert.ok(exchange.sentAtAnswer() < 20, 'cut while the client was still trickling');
        await observed.done.promise;
        assert.ok(observed.error instanceof HttpProblem && observed.error.code === 'request_timeout');
        await exchange.closed;
      } finally {
        exchange.socket.destroy();
      }
    });

    it('errors the handler stream and aborts the signal when the client disconnects mid-upload', async () => {
      const release = deferred<void>();
      const exchange = rawRequest(server, '/v1/uploads/stream', { 'Content-Length': String(STREAM_LIMIT) }, payload(STREAM_LIMIT, undefined, { after: 256 * KiB, until: release.promise }), {
        chunked: false,
      });
      try {
        const deadline = Date.now() + 5000;
        while (observed.bytes < 256 * KiB && Date.now() < deadline) await sleep(10);
        assert.equal(observed.bytes, 256 * KiB, 'the handler read what was sent');
        exchange.socket.destroy();
        await Promise.race([observed.done.promise, sleep(3000).then(() => assert.fail('the handler stream did not error'))]);
        assert.ok(observed.error instanceof HttpProblem, String(observed.error));
        assert.equal(observed.error.code, 'malformed_body');
        assert.equal(observed.signalAborted, true);
        assert.equal(observed.bytes, 256 * KiB);
      } finally {
        release.resolve();
      }
    });
  });

  describe('multipart bodies', () => {
    it('streams fields and files to the handler in the order sent, with safe file names', async () => {
      const audio = PATTERN.subarray(0, 200 * KiB);
      const cover = PATTERN.subarray(5000, 5100);
      const body = await whole(
        multipart([
          { name: 'title', value: 'Song' },
          { name: 'audio', filename: '../../etc/passwd.wav', type: 'audio/wav', content: audio },
          { name: 'notes', value: 'line one\r\nline two\ttab' },
          { name: 'cover', filename: 'C:\\\\Users\\\\ada\\\\cover.bin' /* backslashes escaped in the quoted header value */, type: 'application/octet-stream', content: cover },
          { name: 'artist', value: 'Ada' },
        ]),
      );
      const res = await t.inject({ method: 'POST', url: '/v1/uploads/form', headers: { 'content-type': multipartType }, payload: body });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json(), {
        parts: [
          { kind: 'field', name: 'title', value: 'Song' },
          { kind: 'file', name: 'audio', filename: 'passwd.wav', mediaType: 'audio/wav', bytes: audio.length, sha256: sha256(audio) },
          { kind: 'field', name: 'notes', value: 'line one\r\nline two\ttab' },
          { kind: 'file', name: 'cover', filename: 'cover.bin', mediaType: 'application/octet-stream', bytes: cover.length, sha256: sha256(cover) },
          { kind: 'field', name: 'artist', value: 'Ada' },
        ],
      });
    });

    it('skips a file part the handler moves past without reading, and later parts still arrive', async () => {
      const body = await whole(
        multipart([
          { name: 'audio', filename: 'a.wav', type: 'audio/wav', content: PATTERN.subarray(0, 200 * KiB) },
          { name: 'title', value: 'After the file' },
        ]),
      );
      const res = await t.inject({ method: 'POST', url: '/v1/uploads/names', headers: { 'content-type': multipartType }, payload: body });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json(), {
        parts: [
          { kind: 'file', name: 'audio', filename: 'a.wav', mediaType: 'audio/wav' },
          { kind: 'field', name: 'title', value: 'After the file' },
        ],
      });
    });

    it('answers 413 naming the limit: too many files, a field too long, a file too big, too many fields', async () => {
      const post = async (parts: PartSpec[]) =>
        t.inject({ method: 'POST', url: '/v1/uploads/form', headers: { 'content-type': multipartType }, payload: await whole(multipart(parts)) });
      const file = (name: string, bytes = 10) => ({ name, filename: `${name}.wav`, type: 'audio/wav', content: PATTERN.subarray(0, bytes) });
      const cases: [PartSpec[], RegExp][] = [
        [[file('a'), file('b'), file('c')], /At most 2 files .*maxFiles/],
        [[{ name: 'title', value: 'x'.repeat(33) }], /"title" is longer than 32 bytes .*maxFieldBytes/],
        [[file('a', 256 * KiB + 1)], /at most 262144 bytes .*maxFileBytes/],
        [[{ name: 'a', value: '1' }, { name: 'b', value: '2' }, { name: 'c', value: '3' }, { name: 'd', value: '4' }], /At most 3 text fields .*maxFields/],
      ];
      for (const [parts, detail] of cases) {
        const problem = expectProblem(await post(parts), 413, 'payload_too_large');
        assert.match(String(problem.detail), detail);
      }
      // Exactly at each limit is fine.
      const ok = await post([file('a', 256 * KiB), file('b'), { name: 'title', value: 'x'.repeat(32) }, { name: 'b', value: '2' }, { name: 'c', value: '3' }]);
      assert.equal(ok.statusCode, 200, ok.body);
    });

    it('answers 413 for a multipart body over maxTotalBytes, declared or streamed', async () => {
      const declared = rawRequest(server, '/v1/uploads/form', { 'Content-Type': multipartType, 'Content-Length': String(2 * MiB) }, payload(0), { chunked: false });
      const answer = await declared.answer;
      assert.equal(answer.status, 413);
      assert.match(String(answer.json().detail), /maxTotalBytes/);
      assert.equal(observed.calls, 0);
      declared.socket.destroy();
      // Every part within its own limits, but a 2 MiB preamble (which the parser skips) before them.
      const preambled: AsyncIterable<Uint8Array> = {
        async *[Symbol.asyncIterator]() {
          yield* payload(2 * MiB);
          yield Buffer.from('\r\n');
          yield* multipart([{ name: 'title', value: 'Song' }]);
        },
      };
      const streamed = rawRequest(server, '/v1/uploads/names', { 'Content-Type': multipartType }, preambled, { chunked: true });
      const streamedAnswer = await streamed.answer;
      assert.equal(streamedAnswer.status, 413, streamedAnswer.body);
      assert.match(String(streamedAnswer.json().detail), /at most 1048576 bytes in all \(maxTotalBytes\)/);
      streamed.socket.destroy();
    });

    it('answers 415 for a body that is not multipart and for a file part of a type the route does not accept', async () => {
      const notMultipart = await t.inject({ method: 'POST', url: '/v1/uploads/form', headers: { 'content-type': 'application/json' }, payload: '{}' });
      expectProblem(notMultipart, 415, 'unsupported_media_type');
      const body = await whole(multipart([{ name: 'audio', filename: 'a.exe', type: 'application/x-msdownload', content: PATTERN.subarray(0, 100) }]));
      const wrongType = await t.inject({ method: 'POST', url: '/v1/uploads/form', headers: { 'content-type': multipartType }, payload: body });
      const problem = expectProblem(wrongType, 415, 'unsupported_media_type');
      assert.match(String(problem.detail), /"audio" is declared as application\/x-msdownload/);
    });

    it('answers 400 malformed_body for a missing boundary, a wrong boundary and a truncated body', async () => {
      const good = await whole(multipart([{ name: 'title', value: 'Song' }, { name: 'audio', filename: 'a.wav', type: 'audio/wav', content: PATTERN.subarray(0, 4000) }]));
      const post = (contentType: string, payload: Buffer) => t.inject({ method: 'POST', url: '/v1/uploads/form', headers: { 'content-type': contentType }, payload });
      expectProblem(await post('multipart/form-data', good), 400, 'malformed_body');
      expectProblem(await post('multipart/form-data; boundary=something-else', good), 400, 'malformed_body');
      const truncated = await post(multipartType, good.subarray(0, good.length - 200));
      expectProblem(truncated, 400, 'malformed_body');
      // Over a socket, a chunked body that ends without its closing boundary.
      const exchange = rawRequest(server, '/v1/uploads/form', { 'Content-Type': multipartType }, multipart([{ name: 'title', value: 'Song' }], { close: false }), {
        chunked: true,
      });
      const answer = await exchange.answer;
      assert.equal(answer.status, 400, answer.body);
      assert.equal(answer.json().code, 'malformed_body');
      exchange.socket.destroy();
    });

    it('refuses control characters in fields, field names and file names with 422 naming the field', async () => {
      const post = async (parts: PartSpec[]) =>
        t.inject({ method: 'POST', url: '/v1/uploads/form', headers: { 'content-type': multipartType }, payload: await whole(multipart(parts)) });
      const cases: [PartSpec[], string][] = [
        [[{ name: 'title', value: 'So\u0000ng' }], 'title'],
        [[{ name: 'title', value: 'two\nlines' }], 'title'], // only multilineFields take newlines
        [[{ name: 'notes', value: 'bell \u0007' }], 'notes'],
        [[{ name: 'audio', filename: 'a\u001b[31m.wav', type: 'audio/wav', content: PATTERN.subarray(0, 10) }], 'audio'],
      ];
      for (const [parts, path] of cases) {
        const problem = expectProblem(await post(parts), 422, 'validation_failed');
        assert.deepEqual(problem.errors?.map((e) => e.path), [path], JSON.stringify(parts[0]));
      }
    });

    it('answers 422 naming each required file part that is missing', async () => {
      const body = await whole(multipart([{ name: 'audio', filename: 'a.wav', type: 'audio/wav', content: PATTERN.subarray(0, 10) }]));
      const res = await t.inject({ method: 'POST', url: '/v1/uploads/required', headers: { 'content-type': multipartType }, payload: body });
      const problem = expectProblem(res, 422, 'validation_failed');
      assert.deepEqual(problem.errors?.map((e) => e.path), ['cover']);
    });

    it('streams a 200 MiB file part through a slow handler with flat memory', async () => {
      const clientHash = createHash('sha256');
      const parts: PartSpec[] = [
        { name: 'title', value: 'Big' },
        { name: 'audio', filename: 'big.wav', type: 'audio/wav', content: payload(BIG_FILE, clientHash) },
        { name: 'after', value: 'done' },
      ];
      const baseline = process.memoryUsage.rss();
      let peak = baseline;
      // How far the client got ahead of the handler: with backpressure, no further than what the
      // socket buffers and the pipeline's read-ahead hold; without it, by most of the file.
      let exchange: RawExchange | undefined;
      let lead = 0;
      const sampler = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage.rss());
        if (exchange) lead = Math.max(lead, exchange.sent() - observed.bytes);
      }, 5);
      const started = performance.now();
      try {
        exchange = rawRequest(server, '/v1/uploads/big', { 'Content-Type': multipartType }, multipart(parts), { chunked: true });
        const answer = await exchange.answer;
        assert.equal(answer.status, 201, answer.body);
        assert.deepEqual(answer.json(), {
          parts: [
            { kind: 'field', name: 'title', value: 'Big' },
            { kind: 'file', name: 'audio', filename: 'big.wav', mediaType: 'audio/wav', bytes: BIG_FILE, sha256: clientHash.digest('hex') },
            { kind: 'field', name: 'after', value: 'done' },
          ],
        });
        exchange.socket.destroy();
      } finally {
        clearInterval(sampler);
      }
      const growth = peak - baseline;
      const seconds = (performance.now() - started) / 1000;
      console.log(
        `# 200 MiB multipart upload: ${(BIG_FILE / MiB / seconds).toFixed(0)} MiB/s, peak RSS growth ${(growth / MiB).toFixed(1)} MiB, client ahead by at most ${(lead / MiB).toFixed(1)} MiB`,
      );
      assert.ok(growth < RSS_GROWTH_BOUND, `RSS grew by ${(growth / MiB).toFixed(1)} MiB for a ${BIG_FILE / MiB} MiB body`);
      assert.ok(lead < 24 * MiB, `the client got ${(lead / MiB).toFixed(1)} MiB ahead of the handler: no backpressure`);
    });

    it('answers 413 while a chunked file part streams past maxFileBytes', async () => {
      const total = 256 * MiB;
      const exchange = rawRequest(
        server,
        '/v1/uploads/capped',
        { 'Content-Type': multipartType },
        multipart([{ name: 'audio', filename: 'huge.wav', type: 'audio/wav', content: payload(total) }]),
        { chunked: true },
      );
      const answer = await exchange.answer;
      assert.equal(answer.status, 413, answer.body);
      assert.equal(answer.json().code, 'payload_too_large');
      assert.match(String(answer.json().detail), /maxFileBytes/);
      assert.equal(answer.headers.connection, 'close');
      assert.ok(exchange.sentAtAnswer() < CAPPED_FILE_LIMIT + 16 * MiB, `answered after ${exchange.sentAtAnswer()} bytes, while the client was still sending`);
      await observed.done.promise;
      assert.ok(observed.bytes <= CAPPED_FILE_LIMIT, `the handler read ${observed.bytes} bytes`);
      assert.ok(observed.error instanceof HttpProblem && observed.error.status === 413);
      assert.equal(observed.signalAborted, true);
      await exchange.closed;
    });
  });

  describe('declaring upload routes', () => {
    it('the Node server sets no whole-request deadline (per-route budgets bound bodies), but keeps the headers deadline', () => {
      assert.equal(server.server.requestTimeout, 0);
      assert.equal(server.server.headersTimeout, 20_000);
    });

    it('checks the options of the body kinds when the route is declared', () => {
      assert.throws(() => streamBody({ maxBytes: 0 }), /maxBytes must be a positive integer/);
      assert.throws(() => streamBody({ maxBytes: 10, mediaTypes: ['audio'] }), /not "type\/subtype"/);
      assert.throws(() => streamBody({ maxBytes: 10, mediaTypes: [] }), /at least one media type/);
      assert.throws(
        () => multipartBody({ maxFileBytes: 1, maxFiles: -1, maxFieldBytes: 1, maxFields: 1, maxTotalBytes: 1 }),
        /maxFiles must be an integer ≥ 0/,
      );
    });

    it('refuses an upload body on GET and a JSON bodyLimitBytes next to one, at boot', async () => {
      const bad = definePlugin({
        id: 'bad',
        version: '1.0.0',
        routes(router) {
          router.get('/v1/bad/a', { body: streamBody({ maxBytes: 10 }) }, () => {});
          router.post('/v1/bad/b', { body: streamBody({ maxBytes: 10 }), bodyLimitBytes: 100 }, () => {});
        },
      });
      await assert.rejects(createTestKernel({ plugins: [bad], database: 'pglite' }), (err: Error) => {
        assert.match(err.message, /GET \/v1\/bad\/a cannot take an upload body/);
        assert.match(err.message, /POST \/v1\/bad\/b sets bodyLimitBytes with an upload body/);
        return true;
      });
    });
  });
});
