/**
 * What a store (local disk, S3, R2) implements. The storage service (service.ts) wraps every
 * driver with the same byte counting, hashing and key checks, so a driver only moves bytes.
 */
import type { ByteRange, ObjectContent, ObjectInfo, SignedUrlOptions, Visibility } from './contract.ts';

export interface WriteMeta {
  readonly contentType: string;
  readonly visibility: Visibility;
}

export interface StorageDriver {
  readonly name: 'local' | 's3' | 'r2';
  /**
   * Streams `body` to `key`. The object appears only when `body` ends without error (the service
   * errors the stream on overflow or a checksum mismatch, before its end); on a stream error, an
   * abort or a store error, the driver removes whatever it wrote (temporary file, multipart
   * upload) and rethrows.
   */
  write(key: string, body: ReadableStream<Uint8Array>, meta: WriteMeta, signal: AbortSignal): Promise<void>;
  read(key: string, range?: ByteRange): Promise<ObjectContent | undefined>;
  head(key: string): Promise<ObjectInfo | undefined>;
  remove(key: string): Promise<void>;
  signedUrl(key: string, options: SignedUrlOptions): Promise<string>;
  publicUrl(key: string): string | undefined;
  /** Readiness: the bucket (or directory) is reachable and writable; throws a message naming the variable to fix. */
  check(signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}
