/**
 * The local driver: objects are files under `config.dir` (DATA_DIR/storage), one per key, the key's
 * segments being directories. Layout:
 *
 *   <dir>/<key>                the object's bytes, exactly as stored
 *   <dir>/.meta/<key>.json     its content type and visibility (a small JSON sidecar)
 *   <dir>/.tmp/<uuid>          writes in progress (and readiness probes)
 *
 * Keys never have a segment that starts with a dot (service.ts), so `.meta` and `.tmp` can never
 * be objects. A write goes to a temporary file in `.tmp` (same filesystem, so `rename` is atomic),
 * is fsync'ed, and is renamed to its final name only when its stream ended without error; on an
 * error or an abort the temporary file is deleted. A process that dies mid-write leaves at most a
 * temporary file, never a half object under the final name; `sweep()` (run at start) deletes
 * temporary files untouched for an hour. The sidecar is renamed into place before the object, so
 * an object never appears without its metadata.
 *
 * Local storage has no public URLs (`publicUrl` is undefined): every download goes through a
 * signed URL on the API itself (signing.ts).
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream, type Stats } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import type { Logger } from '../../core/index.ts';
import type { ByteRange, ObjectContent, ObjectInfo, SignedUrlOptions, Visibility } from './contract.ts';
import type { StorageDriver, WriteMeta } from './driver.ts';
import { storageProblems } from './problems.ts';
import { downloadUrl } from './signing.ts';

/** Temporary files untouched (mtime) for this long belong to a write that died: swept at start. */
export const STALE_TEMP_MS = 60 * 60 * 1000;
/** Bytes per read when streaming an object out. */
const READ_CHUNK = 64 * 1024;
/**
 * What a write stream buffers while a write is in flight: the chunks that arrive meanwhile go to
 * the disk in one writev. With the default (16 KiB) every 64 KiB chunk was its own write call and
 * thread-pool round trip, 16,000 per GiB.
 */
const WRITE_BUFFER_BYTES = 1024 * 1024;
const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

export interface LocalDriverOptions {
  /** The key signed URLs are signed with (STORAGE_SIGNING_KEY, or one made for this process in development). */
  readonly signingKey: string;
  /** PUBLIC_API_URL: the base of signed URLs; default: the origin of the request they are made for. */
  readonly publicApiUrl?: string | undefined;
  readonly logger: Logger;
  /** Age after which a temporary file is swept (default one hour). */
  readonly staleTempMs?: number;
}

export interface LocalDriver extends StorageDriver {
  readonly name: 'local';
  /** The absolute directory objects live under. */
  readonly dir: string;
  /** Deletes temporary files older than `staleTempMs` (left by a crash); resolves to how many. */
  sweep(): Promise<number>;
}

interface Sidecar {
  readonly contentType: string;
  readonly visibility: Visibility;
}

export function createLocalDriver(dirOption: string, options: LocalDriverOptions): LocalDriver {
  const root = resolve(dirOption);
  const tmpDir = join(root, '.tmp');
  const metaDir = join(root, '.meta');
  const staleMs = options.staleTempMs ?? STALE_TEMP_MS;

  /** The file of a key; the service checked the key, this refuses anything outside the root anyway. */
  const pathIn = (base: string, key: string, suffix = ''): string => {
    const path = join(base, ...key.split('/')) + suffix;
    if (!path.startsWith(base + sep) || key.split('/').some((s) => s === '' || s.startsWith('.'))) {
      throw new TypeError(`storage: "${key}" is not a valid key`);
    }
    return path;
  };
  const objectPath = (key: string) => pathIn(root, key);
  const metaPath = (key: string) => pathIn(metaDir, key, '.json');

  const readSidecar = async (key: string): Promise<Sidecar> => {
    try {
      const parsed = JSON.parse(await readFile(metaPath(key), 'utf8')) as Partial<Sidecar>;
      return {
        contentType: typeof parsed.contentType === 'string' ? parsed.contentType : DEFAULT_CONTENT_TYPE,
        visibility: parsed.visibility === 'public' ? 'public' : 'private',
      };
    } catch {
      // No sidecar (or an unreadable one): the bytes are still the object's.
      return { contentType: DEFAULT_CONTENT_TYPE, visibility: 'private' };
    }
  };

  const infoOf = (key: string, st: Stats, sidecar: Sidecar): ObjectInfo => ({
    key,
    sizeBytes: st.size,
    contentType: sidecar.contentType,
    // A new write is a new file (rename), so inode, size and mtime together identify the content.
    etag: `"${st.ino.toString(36)}-${st.size.toString(36)}-${Math.floor(st.mtimeMs).toString(36)}"`,
    lastModified: st.mtime,
  });

  const isFile = async (path: string): Promise<boolean> => {
    try {
      return (await stat(path)).isFile();
    } catch {
      return false;
    }
  };

  const driver: LocalDriver = {
    name: 'local',
    dir: root,

    async write(key: string, body: ReadableStream<Uint8Array>, meta: WriteMeta, signal: AbortSignal): Promise<void> {
      const target = objectPath(key);
      const sidecarTarget = metaPath(key);
      const id = randomUUID();
      const tmpData = join(tmpDir, id);
      const tmpMeta = join(tmpDir, `${id}.meta`);
      let sidecarPlaced = false;
      try {
        await mkdir(tmpDir, { recursive: true });
        // A path-based stream (`wx`: the name is new) that opens, writes and closes the file
        // itself; `flush` fsyncs before the close, so a rename never publishes bytes still only in
        // the page cache. (A stream over a FileHandle was seen once to never finish at 1 GiB.)
        const file = createWriteStream(tmpData, { flags: 'wx', mode: 0o600, flush: true, highWaterMark: WRITE_BUFFER_BYTES });
        await pipeline(Readable.fromWeb(body as unknown as NodeReadableStream<Uint8Array>), file, { signal });
        signal.throwIfAborted();
        const sidecar: Sidecar = { contentType: meta.contentType, visibility: meta.visibility };
        await writeFile(tmpMeta, JSON.stringify(sidecar), { mode: 0o600, flush: true });
        await mkdir(dirname(sidecarTarget), { recursive: true });
        await mkdir(dirname(target), { recursive: true });
        await rename(tmpMeta, sidecarTarget);
        sidecarPlaced = true;
        await rename(tmpData, target);
      } catch (err) {
        await Promise.all([rm(tmpData, { force: true }), rm(tmpMeta, { force: true })]).catch(() => {});
        // The sidecar went into place but the object did not: take it back unless an older
        // object of that key still needs one.
        if (sidecarPlaced && !(await isFile(target))) await rm(sidecarTarget, { force: true }).catch(() => {});
        // An abort surfaces as the reason it was aborted for (e.g. the route's problem).
        if (signal.aborted && err instanceof Error && err.name === 'AbortError' && signal.reason !== undefined) throw signal.reason;
        throw err;
      }
      // Make the rename itself durable (best effort: not every platform can fsync a directory).
      await syncDirectory(dirname(target));
    },

    async read(key: string, range?: ByteRange): Promise<ObjectContent | undefined> {
      let handle: FileHandle;
      try {
        handle = await open(objectPath(key), 'r');
      } catch (err) {
        if (isMissing(err)) return undefined;
        throw err;
      }
      try {
        // Size, ETag and bytes all come from the file this handle pinned, even if the key is
        // rewritten or deleted meanwhile.
        const st = await handle.stat();
        if (!st.isFile()) {
          await handle.close();
          return undefined;
        }
        const info = infoOf(key, st, await readSidecar(key));
        let start = 0;
        let end = st.size - 1;
        if (range) {
          start = range.start;
          end = Math.min(range.end ?? st.size - 1, st.size - 1);
          if (!Number.isSafeInteger(start) || start < 0 || start > end) {
            throw storageProblems.range_not_satisfiable(`The object has ${st.size} bytes.`, { headers: { 'Content-Range': `bytes */${st.size}` } });
          }
        }
        return { ...info, body: fileStream(handle, start, end), ...(range && { range: { start, end } }) };
      } catch (err) {
        await handle.close().catch(() => {});
        throw err;
      }
    },

    async head(key: string): Promise<ObjectInfo | undefined> {
      let st: Stats;
      try {
        st = await stat(objectPath(key));
      } catch (err) {
        if (isMissing(err)) return undefined;
        throw err;
      }
      if (!st.isFile()) return undefined;
      return infoOf(key, st, await readSidecar(key));
    },

    async remove(key: string): Promise<void> {
      const target = objectPath(key);
      if (!(await isFile(target))) {
        await rm(metaPath(key), { force: true });
        return;
      }
      await unlinkIfPresent(target);
      await rm(metaPath(key), { force: true });
    },

    async signedUrl(key: string, opts: SignedUrlOptions): Promise<string> {
      const base = options.publicApiUrl ?? originOf(opts.request);
      if (!base) {
        throw new Error('storage.signedUrl: local signed URLs are absolute URLs on the API: set PUBLIC_API_URL or pass the request (options.request)');
      }
      const expires = Math.floor(Date.now() / 1000) + Math.ceil(opts.ttlSeconds);
      return downloadUrl(base, { key, expires, contentDisposition: opts.contentDisposition }, options.signingKey);
    },

    // Local storage serves nothing publicly: downloads go through signed URLs.
    publicUrl: () => undefined,

    async check(): Promise<void> {
      const probe = join(tmpDir, `probe-${randomUUID()}`);
      try {
        await mkdir(tmpDir, { recursive: true });
        await writeFile(probe, 'probe', { mode: 0o600 });
        await unlink(probe);
      } catch (err) {
        await rm(probe, { force: true }).catch(() => {});
        const why = (err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err));
        throw new Error(`local storage directory ${root} is not writable (${why}): set DATA_DIR to a writable directory`);
      }
    },

    async sweep(): Promise<number> {
      let names: string[];
      try {
        names = await readdir(tmpDir);
      } catch (err) {
        if (isMissing(err)) return 0;
        throw err;
      }
      let swept = 0;
      const now = Date.now();
      for (const name of names) {
        const path = join(tmpDir, name);
        try {
          const st = await stat(path);
          // mtime moves with every chunk written, so only abandoned files are this old.
          if (st.isFile() && now - st.mtimeMs > staleMs) {
            await rm(path, { force: true });
            swept++;
          }
        } catch (err) {
          if (!isMissing(err)) throw err;
        }
      }
      if (swept > 0) options.logger.info({ swept, dir: tmpDir }, 'storage: removed temporary files left by interrupted writes');
      return swept;
    },

    // Nothing is held open between calls (each read owns its file handle until its stream ends).
    close: async () => {},
  };
  return driver;
}

/** `https://host` of the request (scheme as the pipeline judged it: TLS or a trusted proxy's word). */
function originOf(request: SignedUrlOptions['request']): string | undefined {
  if (!request) return undefined;
  const host = request.host;
  if (!host) return undefined;
  return `${request.state.secure ? 'https' : 'http'}://${host}`;
}

/** Streams bytes `start..end` (inclusive) of an open file, then closes it (also when cancelled). */
function fileStream(handle: FileHandle, start: number, end: number): ReadableStream<Uint8Array> {
  let position = start;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await handle.close().catch(() => {});
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const remaining = end - position + 1;
        if (remaining <= 0) {
          await close();
          controller.close();
          return;
        }
        const buffer = Buffer.allocUnsafeSlow(Math.min(READ_CHUNK, remaining));
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
        if (bytesRead === 0) throw new Error('storage: the file ended before the bytes announced');
        position += bytesRead;
        controller.enqueue(new Uint8Array(buffer.buffer, buffer.byteOffset, bytesRead));
        if (position > end) {
          await close();
          controller.close();
        }
      } catch (err) {
        await close();
        controller.error(err);
      }
    },
    cancel: close,
  });
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

async function unlinkIfPresent(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (err) {
    if (!isMissing(err)) throw err;
  }
}

async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Windows and some filesystems refuse to fsync a directory; the rename already happened.
  }
}
