/**
 * The storage plugin on its local driver: round trips with SHA-256 checked against an independent
 * computation; overflow, checksum mismatch and client aborts leave nothing in the directory (the
 * temporary files included); signed downloads over HTTP (ranges, 304, expiry, alterations); a
 * process killed mid-write leaves no object and its temporary file is swept; readiness and
 * `empulse check` name DATA_DIR when the directory is unusable; production needs
 * STORAGE_SIGNING_KEY; keys a client could steer are refused.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import * as v from 'valibot';
import { BootError, configure, createLogger, definePlugin, HttpProblem, Kernel, streamBody, type HttpSettings } from '../core/index.ts';
import { runCli } from '../host/cli.ts';
import { withDevelopmentSecrets } from '../host/dev-secrets.ts';
import { createScratchDatabase, createTestKernel, type TestKernel } from '../host/testing.ts';
import { healthPlugin } from '../plugins/health/index.ts';
import { openApiPlugin } from '../plugins/openapi/index.ts';
import { storageServiceRef, type StorageService } from '../plugins/storage/contract.ts';
import { storagePlugin } from '../plugins/storage/index.ts';
import { parseRange } from '../plugins/storage/download-route.ts';
import { expectProblem } from './support/expect-problem.ts';
import { projectImport } from './support/paths.ts';
import { until } from './support/until.ts';

const SIGNING_KEY = 'storage-test-signing-key-0123456789-abcdefghijklmnop';
const MiB = 1024 * 1024;

const scratchDirs: string[] = [];
async function scratchDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'empulse-storage-'));
  scratchDirs.push(dir);
  return dir;
}
after(async () => {
  for (const dir of scratchDirs) await rm(dir, { recursive: true, force: true });
});

/** Every file below `dir` (dot-directories included), as relative paths; directories are not listed. */
async function filesIn(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => !e.isDirectory())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** A web stream of `bytes` in chunks of `chunkSize`. */
function streamOf(bytes: Uint8Array, chunkSize = 64 * 1024): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(offset, offset + chunkSize));
      offset += chunkSize;
    },
  });
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Buffer> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return Buffer.concat(chunks);
    chunks.push(value);
  }
}

async function rejectsWithProblem(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof HttpProblem, `expected an HttpProblem, got ${String(err)}`);
    assert.equal(err.code, code);
    return true;
  });
}

/** A plugin that uses the storage service the way a product plugin would: uploads and links. */
const vault = definePlugin({
  id: 'vault',
  version: '1.0.0',
  requires: { storage: storageServiceRef },
  routes(router, ctx) {
    router.put(
      '/v1/vault/objects',
      {
        body: streamBody({ maxBytes: 64 * MiB }),
        query: v.object({ sha256: v.optional(v.string()), maxBytes: v.optional(v.pipe(v.string(), v.toNumber(), v.integer())) }),
      },
      async (http) => {
        const storage = ctx.services.storage;
        const key = storage.newKey('uploads', 'bin');
        const stored = await storage.put(http.state.body, {
          key,
          contentType: http.get('content-type') || 'application/octet-stream',
          visibility: 'private',
          maxBytes: http.state.query.maxBytes ?? 64 * MiB,
          ...(http.state.query.sha256 !== undefined && { expectedSha256: http.state.query.sha256 }),
          signal: http.state.signal,
        });
        http.status = 201;
        http.body = stored;
      },
    );
    router.post(
      '/v1/vault/links',
      { body: v.object({ key: v.string(), ttlSeconds: v.number(), disposition: v.optional(v.string()) }) },
      async (http) => {
        const { key, ttlSeconds, disposition } = http.state.body;
        http.body = {
          url: await ctx.services.storage.signedUrl(key, { ttlSeconds, request: http, ...(disposition !== undefined && { contentDisposition: disposition }) }),
        };
      },
    );
  },
});

/** Boots the storage plugin (and the vault) on `dir`. */
async function storageKernel(
  dir: string,
  options: { publicApiUrl?: string; plugins?: Parameters<typeof createTestKernel>[0]['plugins']; http?: HttpSettings } = {},
) {
  return createTestKernel({
    ...(options.http && { http: options.http }),
    plugins: [
      configure(storagePlugin, { dir, signingKey: SIGNING_KEY, ...(options.publicApiUrl && { publicApiUrl: options.publicApiUrl }) }),
      vault,
      ...(options.plugins ?? []),
    ],
  });
}

/** The path and query of an absolute signed URL, for inject(). */
const pathOf = (url: string) => {
  const u = new URL(url);
  return `${u.pathname}${u.search}`;
};

describe('storage (local driver): the service', () => {
  let dir: string;
  let t: TestKernel;
  let storage: StorageService;
  before(async () => {
    dir = await scratchDir();
    t = await storageKernel(dir);
    storage = t.service(storageServiceRef);
  });
  after(() => t.close());

  for (const [name, size] of [['a small', 11], ['an empty', 0], ['a 5 MiB', 5 * MiB + 123]] as const) {
    it(`round-trips ${name} object with its SHA-256 computed while streaming`, async () => {
      const bytes = size === 11 ? Buffer.from('hello world') : randomBytes(size);
      const key = storage.newKey('tracks', 'wav');
      assert.match(key, /^tracks\/[0-9a-f-]{36}\.wav$/);
      const stored = await storage.put(streamOf(bytes), { key, contentType: 'audio/wav', visibility: 'private', maxBytes: 10 * MiB });
      assert.deepEqual(stored, { key, sizeBytes: size, sha256: sha256(bytes) });
      const head = await storage.head(key);
      assert.equal(head?.sizeBytes, size);
      assert.equal(head?.contentType, 'audio/wav');
      assert.match(head?.etag ?? '', /^"[0-9a-z-]+"$/);
      const content = await storage.get(key);
      assert.ok(content);
      const back = await readAll(content.body);
      assert.equal(sha256(back), sha256(bytes));
      assert.equal(back.length, size);
      assert.equal(content.range, undefined);
      // The file under its key is exactly the bytes (no framing); metadata sits in a sidecar.
      assert.deepEqual(readFileSync(join(dir, ...key.split('/'))), bytes);
      assert.deepEqual(JSON.parse(readFileSync(join(dir, '.meta', `${key}.json`), 'utf8')), { contentType: 'audio/wav', visibility: 'private' });
      assert.deepEqual(await filesIn(join(dir, '.tmp')), [], 'no temporary file left');
    });
  }

  it('accepts the announced SHA-256 (any case)', async () => {
    const bytes = randomBytes(1000);
    const key = storage.newKey('docs');
    const stored = await storage.put(streamOf(bytes, 100), { key, contentType: 'application/pdf', visibility: 'public', maxBytes: 1000, expectedSha256: sha256(bytes).toUpperCase() });
    assert.equal(stored.sha256, sha256(bytes));
    assert.equal(storage.publicUrl(key), undefined, 'local storage has no public URLs');
    await storage.delete(key);
    assert.equal(await storage.head(key), undefined);
    await storage.delete(key); // deleting a missing object is fine
  });

  describe('failures leave nothing behind', () => {
    let failDir: string;
    let ft: TestKernel;
    let fs: StorageService;
    before(async () => {
      failDir = await scratchDir();
      ft = await storageKernel(failDir);
      fs = ft.service(storageServiceRef);
    });
    after(() => ft.close());

    it('a body over maxBytes: 413 payload_too_large, no object, no temporary file', async () => {
      const key = fs.newKey('tracks', 'wav');
      await rejectsWithProblem(fs.put(streamOf(randomBytes(2 * MiB)), { key, contentType: 'audio/wav', visibility: 'private', maxBytes: MiB }), 'payload_too_large');
      assert.equal(await fs.head(key), undefined);
      assert.deepEqual(await filesIn(failDir), []);
    });

    it('one byte over the limit is refused, exactly the limit is stored', async () => {
      const bytes = randomBytes(4096);
      const over = fs.newKey('tracks');
      await rejectsWithProblem(fs.put(streamOf(bytes, 1000), { key: over, contentType: 'audio/wav', visibility: 'private', maxBytes: 4095 }), 'payload_too_large');
      assert.deepEqual(await filesIn(failDir), []);
      const exact = fs.newKey('tracks');
      await fs.put(streamOf(bytes, 1000), { key: exact, contentType: 'audio/wav', visibility: 'private', maxBytes: 4096 });
      await fs.delete(exact);
      assert.deepEqual(await filesIn(failDir), []);
    });

    it('a checksum mismatch: 400 checksum_mismatch, no object, no temporary file', async () => {
      const key = fs.newKey('tracks', 'wav');
      const bytes = randomBytes(3 * MiB);
      await rejectsWithProblem(
        fs.put(streamOf(bytes), { key, contentType: 'audio/wav', visibility: 'private', maxBytes: 10 * MiB, expectedSha256: sha256(Buffer.from('something else')) }),
        'checksum_mismatch',
      );
      assert.equal(await fs.head(key), undefined);
      assert.deepEqual(await filesIn(failDir), []);
    });

    it('an abort mid-stream (the caller went away): rejected, no object, no temporary file', async () => {
      const key = fs.newKey('tracks', 'wav');
      const controller = new AbortController();
      const reason = new Error('client went away');
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(c) {
          if (sent === 8) {
            controller.abort(reason); // then stall, as a vanished client does
            return new Promise(() => {});
          }
          sent++;
          c.enqueue(randomBytes(128 * 1024));
        },
      });
      await assert.rejects(fs.put(body, { key, contentType: 'audio/wav', visibility: 'private', maxBytes: 10 * MiB, signal: controller.signal }), (err) => err === reason);
      assert.equal(await fs.head(key), undefined);
      assert.deepEqual(await filesIn(failDir), []);
    });

    it('a body that errors mid-stream: rejected with its error, nothing left', async () => {
      const key = fs.newKey('tracks', 'wav');
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(c) {
          if (sent++ === 4) return c.error(new Error('connection reset'));
          c.enqueue(randomBytes(100_000));
        },
      });
      await assert.rejects(fs.put(body, { key, contentType: 'audio/wav', visibility: 'private', maxBytes: 10 * MiB }), /connection reset/);
      assert.deepEqual(await filesIn(failDir), []);
    });

    it('a client that disconnects mid-upload over HTTP: the temporary file is removed', async () => {
      const server: Server = createServer(ft.kernel.callback());
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const { port } = server.address() as AddressInfo;
        const req = httpRequest({
          host: '127.0.0.1',
          port,
          method: 'PUT',
          path: '/v1/vault/objects',
          headers: { 'content-type': 'application/octet-stream', 'transfer-encoding': 'chunked' },
        });
        req.on('error', () => {});
        for (let i = 0; i < 4; i++) req.write(randomBytes(256 * 1024));
        // The upload is under way: a temporary file is growing.
        await until('a temporary file with bytes in it', async () => {
          const files = await filesIn(join(failDir, '.tmp'));
          return files.length === 1 && (await stat(join(failDir, '.tmp', files[0]!))).size > 0;
        });
        req.destroy();
        await until('the temporary file to be removed', async () => (await filesIn(failDir)).length === 0);
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
      assert.deepEqual(await filesIn(failDir), []);
    });

    it('uploads over HTTP store the bytes with their SHA-256', async () => {
      const bytes = randomBytes(2 * MiB + 1);
      const res = await ft.inject({ method: 'PUT', url: `/v1/vault/objects?sha256=${sha256(bytes)}`, headers: { 'content-type': 'audio/wav' }, payload: bytes });
      assert.equal(res.statusCode, 201, res.body);
      const stored = res.json();
      assert.equal(stored.sha256, sha256(bytes));
      assert.equal(stored.sizeBytes, bytes.length);
      const mismatch = await ft.inject({ method: 'PUT', url: `/v1/vault/objects?sha256=${'0'.repeat(64)}`, payload: bytes });
      expectProblem(mismatch, 400, 'checksum_mismatch');
      const tooBig = await ft.inject({ method: 'PUT', url: '/v1/vault/objects?maxBytes=1000', payload: bytes });
      expectProblem(tooBig, 413, 'payload_too_large');
      await fs.delete(stored.key);
      assert.deepEqual(await filesIn(failDir), []);
    });
  });

  it('refuses keys it did not make: "..", absolute paths, upper case, empty segments', async () => {
    for (const key of ['../etc/passwd', '/etc/passwd', 'a/../b', 'a/..', 'Tracks/x', 'a//b', '.tmp/x', 'a/.meta', '', 'a/b/']) {
      await assert.rejects(storage.put(streamOf(Buffer.from('x')), { key, contentType: 'text/plain', visibility: 'private', maxBytes: 10 }), TypeError, key);
      await assert.rejects(storage.get(key), TypeError, key);
      await assert.rejects(storage.head(key), TypeError, key);
      await assert.rejects(storage.delete(key), TypeError, key);
      await assert.rejects(storage.signedUrl(key, { ttlSeconds: 60 }), TypeError, key);
    }
    assert.throws(() => storage.newKey('../tracks'), TypeError);
    assert.throws(() => storage.newKey('/tracks'), TypeError);
    assert.throws(() => storage.newKey('tracks', '../wav'), TypeError);
    assert.equal(existsSync(join(dir, '..', 'etc')), false);
  });

  it('reads byte ranges and refuses unsatisfiable ones with 416', async () => {
    const bytes = randomBytes(1000);
    const key = storage.newKey('tracks');
    await storage.put(streamOf(bytes), { key, contentType: 'audio/wav', visibility: 'private', maxBytes: 1000 });
    const part = await storage.get(key, { range: { start: 10, end: 19 } });
    assert.deepEqual(part?.range, { start: 10, end: 19 });
    assert.deepEqual(await readAll(part!.body), bytes.subarray(10, 20));
    const tail = await storage.get(key, { range: { start: 990 } });
    assert.deepEqual(await readAll(tail!.body), bytes.subarray(990));
    const clamped = await storage.get(key, { range: { start: 995, end: 5000 } });
    assert.deepEqual(clamped?.range, { start: 995, end: 999 });
    await readAll(clamped!.body);
    await rejectsWithProblem(storage.get(key, { range: { start: 1000 } }), 'range_not_satisfiable');
    assert.equal(await storage.get(storage.newKey('tracks'), { range: { start: 0 } }), undefined, 'a missing object is undefined, not 416');
  });

  it('parses Range headers: one range, suffix, open-ended; several or malformed ones mean the whole object', () => {
    assert.deepEqual(parseRange('bytes=0-99', 1000), { start: 0, end: 99 });
    assert.deepEqual(parseRange('bytes=900-', 1000), { start: 900, end: 999 });
    assert.deepEqual(parseRange('bytes=-100', 1000), { start: 900, end: 999 });
    assert.deepEqual(parseRange('bytes=-5000', 1000), { start: 0, end: 999 });
    assert.deepEqual(parseRange('bytes=990-5000', 1000), { start: 990, end: 999 });
    assert.equal(parseRange('bytes=1000-', 1000), 'unsatisfiable');
    assert.equal(parseRange('bytes=-0', 1000), 'unsatisfiable');
    assert.equal(parseRange('bytes=0-', 0), 'unsatisfiable');
    assert.equal(parseRange('bytes=0-1,5-6', 1000), undefined);
    assert.equal(parseRange('bytes=5-1', 1000), undefined);
    assert.equal(parseRange('items=0-1', 1000), undefined);
    assert.equal(parseRange('bytes=-', 1000), undefined);
    assert.equal(parseRange('', 1000), undefined);
  });
});

describe('storage (local driver): signed downloads over HTTP', () => {
  let dir: string;
  let t: TestKernel;
  let storage: StorageService;
  const bytes = randomBytes(1000);
  let key: string;
  let url: string;

  const link = async (body: { key: string; ttlSeconds: number; disposition?: string }, host = 'files.example.test') => {
    const res = await t.inject({ method: 'POST', url: '/v1/vault/links', headers: { host }, payload: body });
    assert.equal(res.statusCode, 200, res.body);
    return res.json().url as string;
  };

  before(async () => {
    dir = await scratchDir();
    t = await storageKernel(dir, { plugins: [openApiPlugin] });
    storage = t.service(storageServiceRef);
    key = storage.newKey('tracks', 'wav');
    await storage.put(streamOf(bytes), { key, contentType: 'audio/wav', visibility: 'private', maxBytes: 1000 });
    url = await link({ key, ttlSeconds: 600 });
  });
  after(() => t.close());

  it('makes absolute URLs on the request origin and serves the object with its headers', async () => {
    assert.match(url, new RegExp(`^http://files\\.example\\.test/v1/storage/objects/${key}\\?expires=\\d+&signature=[A-Za-z0-9_-]{43}$`));
    const res = await t.inject({ url: pathOf(url) });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.rawPayload, bytes);
    assert.equal(res.headers['content-type'], 'audio/wav');
    assert.equal(res.headers['content-length'], '1000');
    assert.equal(res.headers['accept-ranges'], 'bytes');
    assert.equal(res.headers.etag, (await storage.head(key))!.etag);
    assert.ok(res.headers['last-modified']);
    const maxAge = Number(/^private, max-age=(\d+)$/.exec(String(res.headers['cache-control']))?.[1]);
    assert.ok(maxAge > 590 && maxAge <= 600, `max-age ${maxAge}`);
    assert.equal(res.headers['ratelimit'], undefined, 'no rate-limit plugin here; the route has no group of its own');
  });

  it('uses PUBLIC_API_URL when set, else the request origin (https behind a trusted TLS proxy)', async () => {
    const other = await storageKernel(await scratchDir(), { publicApiUrl: 'https://api.label.example/' });
    try {
      const s = other.service(storageServiceRef);
      const k = s.newKey('tracks');
      await s.put(streamOf(bytes), { key: k, contentType: 'audio/wav', visibility: 'private', maxBytes: 1000 });
      const signed = await s.signedUrl(k, { ttlSeconds: 60 });
      assert.ok(signed.startsWith(`https://api.label.example/v1/storage/objects/${k}?`), signed);
      assert.equal((await other.inject({ url: pathOf(signed) })).statusCode, 200);
    } finally {
      await other.close();
    }
    // Behind a trusted proxy that terminated TLS, the request's origin is https.
    const proxied = await storageKernel(await scratchDir(), { http: { trustedProxies: ['127.0.0.1'] } });
    try {
      const k = proxied.service(storageServiceRef).newKey('tracks');
      const res = await proxied.inject({ method: 'POST', url: '/v1/vault/links', headers: { host: 'api.label.example', 'x-forwarded-proto': 'https' }, payload: { key: k, ttlSeconds: 60 } });
      assert.ok(res.json().url.startsWith(`https://api.label.example/v1/storage/objects/${k}?`), res.body);
      const direct = await proxied.inject({ method: 'POST', url: '/v1/vault/links', headers: { host: 'api.label.example' }, payload: { key: k, ttlSeconds: 60 } });
      assert.ok(direct.json().url.startsWith('http://api.label.example/'), direct.body);
    } finally {
      await proxied.close();
    }
    await assert.rejects(storage.signedUrl(key, { ttlSeconds: 60 }), /PUBLIC_API_URL/, 'no request and no PUBLIC_API_URL');
    await assert.rejects(storage.signedUrl(key, { ttlSeconds: 0 }), RangeError);
  });

  it('answers ranges with 206 and Content-Range, and 416 past the end', async () => {
    const get = (range: string) => t.inject({ url: pathOf(url), headers: { range } });
    const first = await get('bytes=0-99');
    assert.equal(first.statusCode, 206);
    assert.equal(first.headers['content-range'], 'bytes 0-99/1000');
    assert.equal(first.headers['content-length'], '100');
    assert.deepEqual(first.rawPayload, bytes.subarray(0, 100));
    const suffix = await get('bytes=-100');
    assert.equal(suffix.statusCode, 206);
    assert.equal(suffix.headers['content-range'], 'bytes 900-999/1000');
    assert.deepEqual(suffix.rawPayload, bytes.subarray(900));
    const open = await get('bytes=500-');
    assert.equal(open.statusCode, 206);
    assert.equal(open.headers['content-range'], 'bytes 500-999/1000');
    assert.deepEqual(open.rawPayload, bytes.subarray(500));
    const past = await get('bytes=1000-');
    expectProblem(past, 416, 'range_not_satisfiable');
    assert.equal(past.headers['content-range'], 'bytes */1000');
    const several = await get('bytes=0-1,5-6');
    assert.equal(several.statusCode, 200, 'several ranges: the whole object');
    assert.deepEqual(several.rawPayload, bytes);
    const stale = await t.inject({ url: pathOf(url), headers: { range: 'bytes=0-9', 'if-range': '"not-the-etag"' } });
    assert.equal(stale.statusCode, 200, 'If-Range with another ETag: the whole object');
    const fresh = await t.inject({ url: pathOf(url), headers: { range: 'bytes=0-9', 'if-range': String(first.headers.etag) } });
    assert.equal(fresh.statusCode, 206);

    const emptyKey = storage.newKey('tracks');
    await storage.put(streamOf(Buffer.alloc(0)), { key: emptyKey, contentType: 'audio/wav', visibility: 'private', maxBytes: 10 });
    const emptyUrl = await link({ key: emptyKey, ttlSeconds: 60 });
    const empty = await t.inject({ url: pathOf(emptyUrl) });
    assert.equal(empty.statusCode, 200);
    assert.equal(empty.headers['content-length'], '0');
    assert.equal(empty.rawPayload.length, 0);
    const emptyRange = await t.inject({ url: pathOf(emptyUrl), headers: { range: 'bytes=0-' } });
    expectProblem(emptyRange, 416, 'range_not_satisfiable');
    assert.equal(emptyRange.headers['content-range'], 'bytes */0');
  });

  it('answers 304 to If-None-Match with the ETag, and HEAD with the headers alone', async () => {
    const first = await t.inject({ url: pathOf(url) });
    const again = await t.inject({ url: pathOf(url), headers: { 'if-none-match': String(first.headers.etag) } });
    assert.equal(again.statusCode, 304);
    assert.equal(again.rawPayload.length, 0);
    assert.equal(again.headers.etag, first.headers.etag);
    const head = await t.inject({ method: 'HEAD', url: pathOf(url), headers: { range: 'bytes=10-19' } });
    assert.equal(head.statusCode, 206);
    assert.equal(head.headers['content-length'], '10');
    assert.equal(head.headers['content-range'], 'bytes 10-19/1000');
    assert.equal(head.rawPayload.length, 0);
  });

  it('binds the content disposition into the signature', async () => {
    const signed = await link({ key, ttlSeconds: 60, disposition: 'attachment; filename="master.wav"' });
    const res = await t.inject({ url: pathOf(signed) });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-disposition'], 'attachment; filename="master.wav"');
    const u = new URL(signed);
    u.searchParams.set('disposition', 'attachment; filename="other.exe"');
    expectProblem(await t.inject({ url: pathOf(u.toString()) }), 403, 'invalid_signature');
    u.searchParams.delete('disposition');
    expectProblem(await t.inject({ url: pathOf(u.toString()) }), 403, 'invalid_signature');
  });

  it('answers 403 invalid_signature to an altered key, expiry or signature, or a missing one', async () => {
    const u = new URL(url);
    const expires = u.searchParams.get('expires')!;
    const signature = u.searchParams.get('signature')!;
    const other = storage.newKey('tracks', 'wav');
    await storage.put(streamOf(bytes), { key: other, contentType: 'audio/wav', visibility: 'private', maxBytes: 1000 });
    const flip = (s: string) => `${s.slice(0, -1)}${s.endsWith('A') ? 'B' : 'A'}`;
    const attempts = [
      `/v1/storage/objects/${other}?expires=${expires}&signature=${signature}`, // another (existing) key
      `/v1/storage/objects/${key}?expires=${Number(expires) + 3600}&signature=${signature}`, // a later expiry
      `/v1/storage/objects/${key}?expires=0${expires}&signature=${signature}`, // the same expiry, spelt otherwise
      `/v1/storage/objects/${key}?expires=${expires}&signature=${flip(signature)}`,
      `/v1/storage/objects/${key}?expires=${expires}&signature=${signature}x`,
      `/v1/storage/objects/${key}?expires=${expires}`,
      `/v1/storage/objects/${key}?signature=${signature}`,
      `/v1/storage/objects/${key}`,
      `/v1/storage/objects/${key}?expires=soon&signature=${signature}`,
      `/v1/storage/objects/..%2F..%2Fsecrets.json?expires=${expires}&signature=${signature}`,
      `/v1/storage/objects/%2Fetc%2Fpasswd?expires=${expires}&signature=${signature}`,
    ];
    for (const attempt of attempts) {
      const res = await t.inject({ url: attempt });
      const body = expectProblem(res, 403, 'invalid_signature');
      assert.equal(body.detail, 'The download URL is not valid.', attempt);
    }
  });

  it('answers 404 not_found to a valid URL of a deleted object', async () => {
    const gone = storage.newKey('tracks');
    await storage.put(streamOf(bytes), { key: gone, contentType: 'audio/wav', visibility: 'private', maxBytes: 1000 });
    const signed = await link({ key: gone, ttlSeconds: 60 });
    await storage.delete(gone);
    expectProblem(await t.inject({ url: pathOf(signed) }), 404, 'not_found');
  });

  it('stops working once expired (403 invalid_signature)', async () => {
    const signed = await link({ key, ttlSeconds: 1 });
    assert.equal((await t.inject({ url: pathOf(signed) })).statusCode, 200);
    const expires = Number(new URL(signed).searchParams.get('expires'));
    // Valid through the second `expires`; wait until that second has passed.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, (expires + 1) * 1000 - Date.now() + 50)));
    const res = await t.inject({ url: pathOf(signed) });
    const body = expectProblem(res, 403, 'invalid_signature');
    assert.equal(body.detail, 'The download URL has expired.');
  });

  it('documents the route in the OpenAPI document with its key as a path parameter', async () => {
    const doc = (await t.inject({ url: '/openapi.json' })).json();
    const op = doc.paths['/v1/storage/objects/{key}']?.get;
    assert.ok(op, Object.keys(doc.paths).join(', '));
    assert.deepEqual(op.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`).sort(), ['path:key', 'query:disposition', 'query:expires', 'query:signature']);
    assert.match(op.responses['403'].description, /invalid_signature/);
    assert.match(op.responses['416'].description, /range_not_satisfiable/);
    assert.ok(op.responses['206']);
  });
});

describe('storage (local driver): crashes, readiness and configuration', () => {
  it('a process killed mid-write leaves no object under the key, and its temporary file is swept', async () => {
    const dir = await scratchDir();
    const key = 'tracks/crashed.wav';
    // A separate process streams 1 MiB into the driver, then stalls; it is killed with SIGKILL.
    const child = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { createLocalDriver } = await import(${JSON.stringify(projectImport('plugins/storage/local-driver.ts'))});
const driver = createLocalDriver(${JSON.stringify(dir)}, { signingKey: 'x'.repeat(32), logger: { info() {} } });
let sent = 0;
const body = new ReadableStream({ pull(c) { if (sent++ < 4) c.enqueue(new Uint8Array(256 * 1024).fill(7)); else return new Promise(() => {}); } });
await driver.write(${JSON.stringify(key)}, body, { contentType: 'audio/wav', visibility: 'private' }, new AbortController().signal);`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      await until('the child to have written 1 MiB to a temporary file', async () => {
        const files = await filesIn(join(dir, '.tmp'));
        return files.length === 1 && (await stat(join(dir, '.tmp', files[0]!))).size === MiB;
      }, 30_000);
    } catch (err) {
      child.kill('SIGKILL');
      throw new Error(`${(err as Error).message}; child stderr: ${stderr}`);
    }
    child.kill('SIGKILL');
    await exited;
    const [crashed] = await filesIn(join(dir, '.tmp'));
    assert.deepEqual(await filesIn(dir), [`.tmp/${crashed}`], 'only the temporary file: nothing under the key, no sidecar');

    // An hour later, a restart sweeps it; a fresh temporary file (another instance's write in
    // progress on a shared directory) is left alone.
    const old = new Date(Date.now() - 2 * 3600 * 1000);
    await utimes(join(dir, '.tmp', crashed!), old, old);
    await writeFile(join(dir, '.tmp', 'in-progress'), 'bytes');
    const t = await storageKernel(dir);
    try {
      assert.deepEqual(await filesIn(dir), ['.tmp/in-progress']);
      const storage = t.service(storageServiceRef);
      assert.equal(await storage.head(key), undefined);
      assert.equal(await storage.get(key), undefined);
    } finally {
      await t.close();
    }
  });

  it('readiness fails naming DATA_DIR when the directory cannot be written', async () => {
    const file = join(await scratchDir(), 'a-file');
    await writeFile(file, 'not a directory');
    // A directory below a regular file can never be created (chmod would not stop root).
    const t = await createTestKernel({ plugins: [configure(storagePlugin, { dir: join(file, 'storage'), signingKey: SIGNING_KEY })] });
    try {
      const report = await t.kernel.health.readiness();
      assert.equal(report.status, 'fail');
      assert.equal(report.checks.storage?.status, 'fail');
      assert.match(report.checks.storage?.error ?? '', /not writable.*DATA_DIR/);
      const storage = t.service(storageServiceRef);
      await assert.rejects(storage.put(streamOf(Buffer.from('x')), { key: 'tracks/x', contentType: 'text/plain', visibility: 'private', maxBytes: 10 }), /ENOTDIR/);
    } finally {
      await t.close();
    }
  });

  it('readiness passes and leaves no probe file behind', async () => {
    const dir = await scratchDir();
    const t = await storageKernel(dir);
    try {
      const report = await t.kernel.health.readiness();
      assert.equal(report.checks.storage?.status, 'ok');
      assert.deepEqual(await filesIn(dir), []);
    } finally {
      await t.close();
    }
  });

  it('`empulse check` reports the storage check by name, with DATA_DIR in its message', async () => {
    const cwd = await scratchDir();
    const dataDir = join(cwd, 'data');
    await mkdir(dataDir);
    await writeFile(join(dataDir, 'storage'), 'a file where the storage directory should be');
    await writeFile(join(cwd, 'package.json'), '{ "type": "module" }\n');
    await writeFile(
      join(cwd, 'empulse.config.ts'),
      `import { defineConfig } from '${projectImport('core/index.ts')}';
import { healthPlugin } from '${projectImport('plugins/health/index.ts')}';
import { storagePlugin } from '${projectImport('plugins/storage/index.ts')}';
export default defineConfig({ plugins: [healthPlugin, storagePlugin] });
`,
    );
    const scratch = await createScratchDatabase();
    try {
      const out: string[] = [];
      const err: string[] = [];
      const code = await runCli(['check'], {
        cwd,
        env: { LOG_LEVEL: 'silent', DATABASE_URL: scratch.url, DATA_DIR: dataDir },
        out: (line) => out.push(line),
        err: (line) => err.push(line),
        onSignal: () => {},
      });
      assert.equal(code, 1, `out: ${out.join('\n')}\nerr: ${err.join('\n')}`);
      assert.ok(err.some((line) => /^storage: fail \(.*not writable.*DATA_DIR.*\)/.test(line)), err.join('\n'));
      // Development keeps a signing key in DATA_DIR, as it does the JWT secret.
      const secrets = JSON.parse(readFileSync(join(dataDir, 'secrets.json'), 'utf8'));
      assert.match(secrets.STORAGE_SIGNING_KEY, /^[A-Za-z0-9_-]{43}$/);
    } finally {
      await scratch.drop();
    }
  });

  it('production refuses to boot without STORAGE_SIGNING_KEY, naming it', () => {
    const plan = (env: Record<string, string>) =>
      new Kernel({ config: { plugins: [storagePlugin] }, env, mode: 'production', logger: createLogger({ level: 'silent' }), database: { driver: 'pglite' } });
    const problemsOf = (env: Record<string, string>) => {
      try {
        plan(env);
      } catch (err) {
        assert.ok(err instanceof BootError, String(err));
        return err.problems.map((p) => `${p.path}: ${p.message}`);
      }
      return [];
    };
    assert.ok(problemsOf({}).some((p) => /^STORAGE_SIGNING_KEY: .*set STORAGE_SIGNING_KEY/.test(p)), problemsOf({}).join('\n'));
    assert.ok(problemsOf({ STORAGE_SIGNING_KEY: 'short' }).some((p) => /^STORAGE_SIGNING_KEY: must be at least 32/.test(p)));
    assert.deepEqual(problemsOf({ STORAGE_SIGNING_KEY: SIGNING_KEY }), []);
    // S3 and R2 presign their own URLs: no signing key needed, but their own settings are.
    assert.ok(problemsOf({ AWS_S3_BUCKET: 'masters' }).some((p) => p.startsWith('AWS_ACCESS_KEY_ID')));
  });

  it('development secrets: STORAGE_SIGNING_KEY and the W-9 keys are generated once into DATA_DIR, never in production', async () => {
    const dataDir = join(await scratchDir(), 'data');
    const first = withDevelopmentSecrets({}, 'development', dataDir);
    assert.match(first.env.STORAGE_SIGNING_KEY ?? '', /^[A-Za-z0-9_-]{43}$/);
    assert.ok(first.env.JWT_SECRET);
    // A one-key ring and an index key in the formats the w9-encryption plugin parses.
    assert.match(first.env.W9_ENCRYPTION_KEYS ?? '', /^dev-\d{8}-[0-9a-f]{6}:[A-Za-z0-9+/]{43}=$/);
    assert.match(first.env.W9_INDEX_KEY ?? '', /^[A-Za-z0-9+/]{43}=$/);
    assert.deepEqual([...first.created].sort(), ['JWT_SECRET', 'STORAGE_SIGNING_KEY', 'W9_ENCRYPTION_KEYS', 'W9_INDEX_KEY']);
    assert.equal(first.file, join(dataDir, 'secrets.json'));
    const second = withDevelopmentSecrets({ JWT_PRIVATE_KEY: 'pem' }, 'development', dataDir);
    assert.equal(second.env.STORAGE_SIGNING_KEY, first.env.STORAGE_SIGNING_KEY, 'kept across restarts');
    assert.equal(second.env.W9_ENCRYPTION_KEYS, first.env.W9_ENCRYPTION_KEYS, 'the ring is kept across restarts');
    assert.equal(second.env.W9_INDEX_KEY, first.env.W9_INDEX_KEY);
    assert.deepEqual(second.created, [], 'nothing new on a restart');
    assert.equal(second.env.JWT_SECRET, undefined, 'no JWT secret when a private key is set');
    assert.equal(withDevelopmentSecrets({ STORAGE_SIGNING_KEY: SIGNING_KEY }, 'development', dataDir).env.STORAGE_SIGNING_KEY, SIGNING_KEY);
    const blocked = join(await scratchDir(), 'a-file');
    await writeFile(blocked, 'not a directory');
    assert.throws(
      () => withDevelopmentSecrets({ JWT_SECRET: 'set' }, 'development', join(blocked, 'data')),
      (err) => err instanceof BootError && err.problems[0]?.path === 'DATA_DIR' && /ENOTDIR.*set STORAGE_SIGNING_KEY, W9_ENCRYPTION_KEYS and W9_INDEX_KEY$/.test(err.problems[0].message),
    );
    const prodDir = join(await scratchDir(), 'prod');
    assert.deepEqual(withDevelopmentSecrets({}, 'production', prodDir).env, {});
    assert.equal(existsSync(prodDir), false);
  });

  it('takes its directory from DATA_DIR and is listed with its route and check', () => {
    const k = new Kernel({
      config: { plugins: [healthPlugin, storagePlugin] },
      env: { DATA_DIR: '/srv/empulse/', STORAGE_SIGNING_KEY: SIGNING_KEY },
      mode: 'test',
      logger: createLogger({ level: 'silent' }),
      database: { driver: 'pglite' },
    });
    const described = k.describe().find((d) => d.id === 'storage')!;
    assert.equal((described.config as { dir: string }).dir, '/srv/empulse/storage');
    assert.equal((described.config as { signingKey: string }).signingKey, '[redacted]');
    assert.deepEqual(described.healthChecks, ['storage']);
    assert.deepEqual(described.routes.map((r) => `${r.method} ${r.path}`), ['GET /v1/storage/objects/*key']);
  });
});
