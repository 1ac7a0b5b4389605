/**
 * The storage plugin's contract: one `storage` service for every upload the label keeps (audio
 * masters, artwork, documents), whatever the store (local disk, S3, R2). Bytes stream through:
 * never a whole file in memory or on a temporary disk; SHA-256 is computed while they pass.
 */
import { createServiceRef, type HttpContext } from '../../core/index.ts';

export type Visibility = 'private' | 'public';

export interface PutOptions {
  /** Made by `newKey()`: never a path a client chose. */
  readonly key: string;
  readonly contentType: string;
  readonly visibility: Visibility;
  /** Bytes allowed; one more fails the put with 413 `payload_too_large` and stores nothing. */
  readonly maxBytes: number;
  /** Hex SHA-256 the client announced; a different digest fails with 400 `checksum_mismatch` and stores nothing. */
  readonly expectedSha256?: string;
  /** Aborts the put (the client went away); nothing is stored. */
  readonly signal?: AbortSignal;
}

export interface StoredObject {
  readonly key: string;
  readonly sizeBytes: number;
  /** Hex SHA-256 of exactly the bytes stored, computed while they streamed. */
  readonly sha256: string;
}

export interface ObjectInfo {
  readonly key: string;
  readonly sizeBytes: number;
  readonly contentType: string;
  readonly etag: string;
  readonly lastModified: Date;
}

/** Inclusive byte offsets, as in an HTTP Range header (`end` defaults to the last byte). */
export interface ByteRange {
  readonly start: number;
  readonly end?: number;
}

export interface ObjectContent extends ObjectInfo {
  readonly body: ReadableStream<Uint8Array>;
  /** The bytes `body` holds, when a range was asked for (inclusive offsets). */
  readonly range?: { readonly start: number; readonly end: number };
}

export interface SignedUrlOptions {
  /** How long the URL works, in seconds. */
  readonly ttlSeconds: number;
  /** e.g. `attachment; filename="master.wav"` */
  readonly contentDisposition?: string;
  /**
   * The request the URL is made for: a local signed URL points at the API's own origin
   * (PUBLIC_API_URL when set, else this request's scheme and host).
   */
  readonly request?: HttpContext;
}

export interface StorageService {
  /** A fresh key under a prefix (`tracks/<uuid>.wav`): the only keys `put` accepts. */
  newKey(prefix: string, extension?: string): string;
  /** Streams `body` to the store; on any failure nothing is left behind. */
  put(body: ReadableStream<Uint8Array>, options: PutOptions): Promise<StoredObject>;
  /** The object's bytes (or a range of them); undefined when there is no such object. */
  get(key: string, options?: { readonly range?: ByteRange }): Promise<ObjectContent | undefined>;
  head(key: string): Promise<ObjectInfo | undefined>;
  /** Removes the object; removing a missing object is not an error. */
  delete(key: string): Promise<void>;
  /** A URL that downloads a private object until it expires. */
  signedUrl(key: string, options: SignedUrlOptions): Promise<string>;
  /** The URL of a public object, when the store has public URLs (S3_PUBLIC_URL, R2_PUBLIC_URL). */
  publicUrl(key: string): string | undefined;
}

export const storageServiceRef = createServiceRef<StorageService>('storage');
