/**
 * The `storage` service other plugins receive: key rules, byte limits, SHA-256 while streaming
 * and range checks, the same for every driver. A driver only moves bytes (driver.ts).
 */
import { v7 as uuidv7 } from 'uuid';
import type { ByteRange, ObjectContent, PutOptions, StorageService, StoredObject } from './contract.ts';
import type { StorageDriver } from './driver.ts';
import { storageProblems } from './problems.ts';
import { verifyStream } from './verify-stream.ts';

/** Keys are ours: lower-case segments of letters, digits, `.`, `_` and `-`; no `..`, no leading `/`. */
const KEY = /^(?!.*\.\.)[a-z0-9][a-z0-9._-]*(?:\/[a-z0-9][a-z0-9._-]*)*$/;
const PREFIX = /^[a-z0-9][a-z0-9_-]*(?:\/[a-z0-9][a-z0-9_-]*)*$/;
const EXTENSION = /^[a-z0-9]{1,10}$/;

/** True for a key this service could have made (the signed-download route checks with it). */
export function isValidKey(key: string): boolean {
  return key.length <= 512 && KEY.test(key);
}

export function assertKey(key: string): void {
  if (!isValidKey(key)) throw new TypeError(`storage: "${key}" is not a key this service made (use newKey)`);
}

/** Told how each `put` ended (metrics): stored with its size, or failed (nothing kept). */
export type PutObserver = (outcome: 'stored' | 'failed', sizeBytes: number, seconds: number) => void;

export function createStorageService(driver: StorageDriver, onPut?: PutObserver): StorageService {
  const service: StorageService = {
    newKey(prefix: string, extension?: string): string {
      if (!PREFIX.test(prefix)) throw new TypeError(`storage.newKey: prefix "${prefix}" must be lower-case path segments`);
      if (extension !== undefined && !EXTENSION.test(extension)) throw new TypeError(`storage.newKey: extension "${extension}" must be 1-10 lower-case letters or digits`);
      return `${prefix}/${uuidv7()}${extension ? `.${extension}` : ''}`;
    },

    async put(body: ReadableStream<Uint8Array>, options: PutOptions): Promise<StoredObject> {
      assertKey(options.key);
      const started = performance.now();
      const verified = verifyStream(body, options.maxBytes, options.expectedSha256);
      const controller = new AbortController();
      const abort = () => controller.abort(options.signal?.reason);
      if (options.signal?.aborted) abort();
      options.signal?.addEventListener('abort', abort, { once: true });
      let stored: StoredObject;
      try {
        await driver.write(options.key, verified.stream, { contentType: options.contentType, visibility: options.visibility }, controller.signal);
        stored = { key: options.key, ...verified.result() };
      } catch (err) {
        onPut?.('failed', 0, (performance.now() - started) / 1000);
        throw err;
      } finally {
        options.signal?.removeEventListener('abort', abort);
      }
      onPut?.('stored', stored.sizeBytes, (performance.now() - started) / 1000);
      return stored;
    },

    async get(key: string, options: { readonly range?: ByteRange } = {}): Promise<ObjectContent | undefined> {
      assertKey(key);
      const range = options.range;
      if (!range) return driver.read(key);
      const info = await driver.head(key);
      if (!info) return undefined;
      const end = Math.min(range.end ?? info.sizeBytes - 1, info.sizeBytes - 1);
      if (!Number.isSafeInteger(range.start) || range.start < 0 || range.start > end) {
        throw storageProblems.range_not_satisfiable(`The object has ${info.sizeBytes} bytes.`, {
          headers: { 'Content-Range': `bytes */${info.sizeBytes}` },
        });
      }
      return driver.read(key, { start: range.start, end });
    },

    head: async (key: string) => {
      assertKey(key);
      return driver.head(key);
    },

    delete: async (key: string) => {
      assertKey(key);
      await driver.remove(key);
    },

    signedUrl: async (key, options) => {
      assertKey(key);
      if (!(options.ttlSeconds > 0 && options.ttlSeconds <= 7 * 24 * 3600)) throw new RangeError('storage.signedUrl: ttlSeconds must be 1..604800');
      return driver.signedUrl(key, options);
    },

    publicUrl: (key: string) => {
      assertKey(key);
      return driver.publicUrl(key);
    },
  };
  return Object.freeze(service);
}
