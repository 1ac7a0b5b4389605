/**
 * The `s3` and `r2` drivers: Amazon S3, any S3-compatible store (S3_ENDPOINT: Ceph radosgw,
 * MinIO, Backblaze…) and Cloudflare R2, through @aws-sdk/client-s3.
 *
 * Uploads go through @aws-sdk/lib-storage's `Upload`: parts of `partSizeBytes`, `queueSize` of
 * them in flight, so memory stays near partSize × (queueSize + 2) whatever the object's size. A
 * body shorter than one part becomes a single PutObject, sent only once the body has ended.
 *
 * Nothing is left behind when a write fails (a stream error — overflow, checksum mismatch, a client
 * that went away —, the abort signal, or a store error):
 * - the input lib-storage reads is errored at once (and `body` cancelled upstream) and the part
 *   uploads in flight are cancelled, so lib-storage stops reading, its uploaders settle, and it
 *   sends AbortMultipartUpload itself;
 *   `upload.abort()` is deliberately not used: it makes `done()` reject at once, while
 *   AbortMultipartUpload is sent later (after the in-flight parts), so the caller would return
 *   with the upload still open;
 * - once `done()` has settled, any multipart upload still open under the key (listed with
 *   ListMultipartUploads) is aborted with its UploadId;
 * - when a PutObject or CompleteMultipartUpload had been sent (an abort signal can arrive while
 *   one is in flight, after the whole body passed; a store error can hide a commit), the key is
 *   deleted. Those requests, and CreateMultipartUpload, are never cancelled, only let finish, so
 *   the store cannot act on one after our clean-up. Keys are fresh (`newKey`), so deleting one
 *   never removes somebody else's object.
 *
 * Visibility: objects are written without an ACL (`public-read` is not supported by R2, and buckets
 * with Object Ownership "bucket owner enforced" reject ACLs). `visibility` is kept as the object's
 * `x-amz-meta-visibility`; a public object is served through the configured public base URL
 * (S3_PUBLIC_URL, R2_PUBLIC_URL): making that URL serve the objects (a bucket policy on the key
 * prefixes that hold public objects, a CDN, R2's public bucket or custom domain) is the operator's
 * job. Without a public base URL, `publicUrl` is undefined — also on Amazon S3, where we do not
 * guess a virtual-hosted URL that would answer 403 on a private bucket.
 */
import { randomUUID } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { DependencyUnavailableError, outageOf, type Logger } from '../../core/index.ts';
import type { StorageConfig } from './config.ts';
import type { ByteRange, ObjectContent, ObjectInfo, SignedUrlOptions } from './contract.ts';
import type { StorageDriver, WriteMeta } from './driver.ts';

/** Where the readiness probe writes: outside every key the service makes (keys never start with `.`). */
export const PROBE_PREFIX = '.empulse-probe/';
/** Upper bound for the clean-up requests after a failed write. */
const CLEANUP_TIMEOUT_MS = 30_000;
/** Retries of clean-up the store was away for: after 1 s, doubling up to a minute. */
const LEFTOVER_FIRST_RETRY_MS = 1000;
const LEFTOVER_MAX_RETRY_MS = 60_000;

/** Clean-up of a failed write left for when the store is back. */
interface Leftover {
  readonly key: string;
  /** A multipart upload may be open under `key`: `uploadId` when known, else found by listing. */
  readonly multipart: boolean;
  readonly uploadId: string | undefined;
  /** An object may have been committed under `key`. */
  readonly deleteObject: boolean;
}

/** The variables an operator fixes, by driver (messages name them). */
interface Variables {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly bucket: string;
  readonly endpoint: string;
  readonly region: string;
}

interface Settings {
  readonly bucket: string;
  readonly client: S3ClientConfig;
  readonly endpoint: string;
  readonly publicUrl: string | undefined;
  readonly vars: Variables;
}

function settingsFor(config: StorageConfig, name: 's3' | 'r2'): Settings {
  if (name === 'r2') {
    const endpoint = config.r2Endpoint ?? (config.r2AccountId ? `https://${config.r2AccountId}.r2.cloudflarestorage.com` : undefined);
    if (!config.r2Bucket || !endpoint || !config.r2AccessKeyId || !config.r2SecretAccessKey) {
      throw new Error('the r2 storage driver needs R2_BUCKET_NAME, R2_ACCOUNT_ID (or R2_ENDPOINT), R2_ACCESS_KEY_ID and R2_SECRET_ACCESS_KEY');
    }
    return {
      bucket: config.r2Bucket,
      endpoint,
      publicUrl: config.r2PublicUrl,
      vars: {
        accessKeyId: 'R2_ACCESS_KEY_ID',
        secretAccessKey: 'R2_SECRET_ACCESS_KEY',
        bucket: 'R2_BUCKET_NAME',
        endpoint: config.r2Endpoint ? 'R2_ENDPOINT' : 'R2_ACCOUNT_ID',
        region: 'R2_ACCOUNT_ID',
      },
      client: {
        region: 'auto',
        endpoint,
        // R2 serves path-style requests on its S3 endpoint; no per-bucket DNS or certificate needed.
        forcePathStyle: true,
        credentials: { accessKeyId: config.r2AccessKeyId, secretAccessKey: config.r2SecretAccessKey },
        // R2 rejects the CRC checksums the SDK sends by default (ARCHITECTURE.md, "Known facts").
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      },
    };
  }
  if (!config.awsBucket) throw new Error('the s3 storage driver needs AWS_S3_BUCKET');
  const custom = config.s3Endpoint !== undefined;
  const endpoint = config.s3Endpoint ?? `https://s3.${config.awsRegion ?? 'us-east-1'}.amazonaws.com`;
  return {
    bucket: config.awsBucket,
    endpoint,
    publicUrl: config.s3PublicUrl,
    vars: {
      accessKeyId: 'AWS_ACCESS_KEY_ID',
      secretAccessKey: 'AWS_SECRET_ACCESS_KEY',
      bucket: 'AWS_S3_BUCKET',
      endpoint: custom ? 'S3_ENDPOINT' : 'AWS_REGION',
      region: 'AWS_REGION',
    },
    client: {
      region: config.awsRegion ?? 'us-east-1',
      ...(custom && {
        endpoint: config.s3Endpoint,
        // S3-compatible stores reject (or store as the body) the SDK's default CRC checksums and
        // aws-chunked framing; radosgw answers a streaming PUT with 411 otherwise.
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      }),
      forcePathStyle: config.s3ForcePathStyle ?? false,
      // Without both keys the SDK's default chain applies (instance roles, AWS_PROFILE…).
      ...(config.awsAccessKeyId && config.awsSecretAccessKey && {
        credentials: { accessKeyId: config.awsAccessKeyId, secretAccessKey: config.awsSecretAccessKey },
      }),
    },
  };
}

export function createS3Driver(config: StorageConfig, name: 's3' | 'r2', logger: Logger): StorageDriver {
  const settings = settingsFor(config, name);
  const { bucket, vars } = settings;
  const client = new S3Client(settings.client);
  const log = logger.child({ storage: name });
  const origin = safeOrigin(settings.endpoint);
  const publicBase = settings.publicUrl?.replace(/\/+$/, '');
  log.debug({ bucket, endpoint: origin, partSizeBytes: config.partSizeBytes, queueSize: config.queueSize }, 'storage driver ready');

  /**
   * Clean-up that could not be done because the store was away (a multipart upload to abort, an
   * object to delete), retried with backoff until the store answers. Kept in memory: if this
   * process ends first, the bucket's lifecycle rule for incomplete multipart uploads is the net.
   */
  const leftovers = new Map<string, Leftover>();
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let retryDelayMs = LEFTOVER_FIRST_RETRY_MS;
  let closed = false;
  const leaveForLater = (leftover: Leftover): void => {
    const id = `${leftover.key}\u0000${leftover.uploadId ?? ''}\u0000${leftover.deleteObject}`;
    leftovers.set(id, leftover);
    if (retryTimer === undefined) scheduleRetry();
  };
  const scheduleRetry = (): void => {
    if (closed) return;
    retryTimer = setTimeout(() => void retryLeftovers(), retryDelayMs);
    retryTimer.unref?.();
  };
  const retryLeftovers = async (): Promise<void> => {
    const items = [...leftovers];
    leftovers.clear();
    for (const [id, leftover] of items) {
      if (closed) break;
      try {
        await cleanUp(leftover.key, { multipart: leftover.multipart, uploadId: leftover.uploadId, committed: leftover.deleteObject });
      } catch (err) {
        // cleanUp files what the store is away for itself; anything else is kept to try again.
        leftovers.set(id, leftover);
        log.warn({ key: leftover.key, err: errorSummary(err) }, 'storage: retrying the clean-up of a failed write failed');
      }
    }
    retryTimer = undefined;
    if (closed) return;
    if (leftovers.size === 0) {
      retryDelayMs = LEFTOVER_FIRST_RETRY_MS;
      log.info({ cleaned: items.length }, 'storage: the store is back; what failed writes left is cleaned up');
      return;
    }
    retryDelayMs = Math.min(LEFTOVER_MAX_RETRY_MS, retryDelayMs * 2);
    scheduleRetry();
  };

  /**
   * After a failed write: abort any multipart upload still open under `key` (when one was asked
   * for: `uploadId` is undefined when CreateMultipartUpload failed or never answered), and delete
   * the object when a PutObject or CompleteMultipartUpload had been sent. What the store, being
   * away, could not do now is retried later (`leftovers`).
   */
  async function cleanUp(key: string, sent: { readonly multipart: boolean; readonly uploadId: string | undefined; readonly committed: boolean }): Promise<void> {
    const abortSignal = AbortSignal.timeout(CLEANUP_TIMEOUT_MS);
    const { uploadId, committed } = sent;
    const away = (err: unknown) => storeUnavailable(err) instanceof DependencyUnavailableError;
    if (sent.multipart) {
      let open: string[];
      try {
        const listed = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: key }), { abortSignal });
        open = (listed.Uploads ?? []).filter((u) => u.Key === key && u.UploadId).map((u) => u.UploadId as string);
      } catch (err) {
        // Not allowed to list (s3:ListBucketMultipartUploads), or the store is down: abort ours blindly.
        log.debug({ key, err: errorSummary(err) }, 'storage: listing multipart uploads failed');
        open = uploadId ? [uploadId] : [];
        if (!uploadId && away(err)) leaveForLater({ key, multipart: true, uploadId: undefined, deleteObject: false });
        else if (!uploadId) log.warn({ key, err: errorSummary(err) }, 'storage: a multipart upload may be left open (a bucket lifecycle rule for incomplete multipart uploads removes it later)');
      }
      for (const id of open) {
        try {
          await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: id }), { abortSignal });
          log.debug({ key, uploadId: id }, 'storage: aborted a multipart upload left open');
        } catch (err) {
          if (errorName(err) === 'NoSuchUpload') continue;
          if (away(err)) leaveForLater({ key, multipart: true, uploadId: id, deleteObject: false });
          else log.warn({ key, uploadId: id, err: errorSummary(err) }, 'storage: could not abort a multipart upload (a bucket lifecycle rule for incomplete multipart uploads removes it later)');
        }
      }
    }
    if (committed) {
      try {
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }), { abortSignal });
        log.debug({ key }, 'storage: deleted whatever a failed write may have committed');
      } catch (err) {
        if (away(err)) leaveForLater({ key, multipart: false, uploadId: undefined, deleteObject: true });
        else log.warn({ key, err: errorSummary(err) }, 'storage: could not delete the object of a failed write');
      }
    }
  }

  const driver: StorageDriver = {
    name,

    async write(key: string, body: ReadableStream<Uint8Array>, meta: WriteMeta, signal: AbortSignal): Promise<void> {
      let failure: { readonly reason: unknown } | undefined;
      let committed = false;
      let createSent = false;
      const cancelRequests = new AbortController();
      const source = body.getReader();
      let input!: ReadableStreamDefaultController<Uint8Array>;

      /** The first failure wins; it stops the input (and cancels `body` upstream) and the part uploads in flight. */
      const fail = (reason: unknown): void => {
        if (failure) return;
        failure = { reason };
        try {
          input.error(reason);
        } catch {
          // already closed or errored
        }
        source.cancel(reason).catch(() => {});
        cancelRequests.abort(reason);
      };

      // What lib-storage reads: `body`, but errored by us the moment anything fails, so that no
      // uploader keeps waiting for (or sending) bytes, and a failure never looks like an end.
      const stream = new ReadableStream<Uint8Array>(
        {
          start(controller) {
            input = controller;
          },
          async pull(controller) {
            let next: ReadableStreamReadResult<Uint8Array>;
            try {
              next = await source.read();
            } catch (err) {
              fail(err);
              return;
            }
            if (failure) return;
            if (next.done) controller.close();
            else controller.enqueue(next.value);
          },
          cancel(reason) {
            fail(reason ?? new Error('storage: upload input cancelled'));
          },
        },
        { highWaterMark: 0 },
      );

      // The client lib-storage sees: ours, but part uploads are cancellable, and any failing upload
      // request stops the whole upload at once instead of after the rest of the body. Requests that
      // create or commit (CreateMultipartUpload, PutObject, CompleteMultipartUpload) are never
      // cancelled: the store might act on them after we stopped listening, so they are let finish
      // and their result is undone (abort, delete) once known.
      const sender = {
        config: client.config,
        send(command: unknown, options?: unknown): Promise<unknown> {
          if (command instanceof CreateMultipartUploadCommand) createSent = true;
          if (command instanceof PutObjectCommand || command instanceof CompleteMultipartUploadCommand) committed = true;
          const part = command instanceof UploadPartCommand;
          const sent = client.send(command as never, (part ? { abortSignal: cancelRequests.signal } : options) as never) as Promise<unknown>;
          if (command instanceof AbortMultipartUploadCommand) return sent;
          return sent.catch((err: unknown) => {
            // A 4xx answer to CreateMultipartUpload is definite: no upload exists to clean up.
            const status = httpStatus(err);
            if (command instanceof CreateMultipartUploadCommand && status !== undefined && status >= 400 && status < 500) createSent = false;
            // Only the store's own failures say it is away; the body's (the client's) never do.
            const reason = storeUnavailable(err);
            fail(reason);
            throw reason;
          });
        },
      } as unknown as S3Client;

      const onAbort = () => fail(signal.reason ?? new Error('storage: write aborted'));
      if (signal.aborted) onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      const upload = new Upload({
        client: sender,
        params: {
          Bucket: bucket,
          Key: key,
          Body: stream,
          ContentType: meta.contentType,
          Metadata: { visibility: meta.visibility },
        },
        partSize: config.partSizeBytes,
        queueSize: config.queueSize,
        leavePartsOnError: false,
      });
      // (a function: TypeScript cannot see the callbacks that set `failure`)
      const failed = (): { readonly reason: unknown } | undefined => failure;
      try {
        if (failed()) throw failed()?.reason;
        // Settles only after lib-storage's uploaders have (we never call upload.abort()).
        await upload.done();
        if (failed()) throw failed()?.reason;
      } catch (err) {
        fail(err);
        await cleanUp(key, { multipart: createSent, uploadId: upload.uploadId, committed });
        throw failed()?.reason ?? err;
      } finally {
        signal.removeEventListener('abort', onAbort);
      }
    },

    async read(key: string, range?: ByteRange): Promise<ObjectContent | undefined> {
      let out;
      try {
        out = await client.send(
          new GetObjectCommand({ Bucket: bucket, Key: key, ...(range && { Range: `bytes=${range.start}-${range.end ?? ''}` }) }),
        );
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw storeUnavailable(err);
      }
      if (!out.Body) throw new Error(`storage: GetObject ${key} answered without a body`);
      const parsed = out.ContentRange ? parseContentRange(out.ContentRange) : undefined;
      return {
        key,
        sizeBytes: parsed?.size ?? out.ContentLength ?? 0,
        contentType: out.ContentType ?? 'application/octet-stream',
        etag: out.ETag ?? '',
        lastModified: out.LastModified ?? new Date(0),
        body: out.Body.transformToWebStream() as ReadableStream<Uint8Array>,
        ...(range && parsed && { range: { start: parsed.start, end: parsed.end } }),
      };
    },

    async head(key: string): Promise<ObjectInfo | undefined> {
      try {
        const out = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        return {
          key,
          sizeBytes: out.ContentLength ?? 0,
          contentType: out.ContentType ?? 'application/octet-stream',
          etag: out.ETag ?? '',
          lastModified: out.LastModified ?? new Date(0),
        };
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw storeUnavailable(err);
      }
    },

    async remove(key: string): Promise<void> {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })).catch((err: unknown) => {
        throw storeUnavailable(err);
      });
    },

    signedUrl(key: string, options: SignedUrlOptions): Promise<string> {
      const command = new GetObjectCommand({
        Bucket: bucket,
        Key: key,
        ...(options.contentDisposition !== undefined && { ResponseContentDisposition: options.contentDisposition }),
      });
      return getSignedUrl(client, command, { expiresIn: options.ttlSeconds });
    },

    publicUrl(key: string): string | undefined {
      if (!publicBase) return undefined;
      return `${publicBase}/${key.split('/').map(encodeURIComponent).join('/')}`;
    },

    async check(signal: AbortSignal): Promise<void> {
      const abortSignal = AbortSignal.any([signal, AbortSignal.timeout(config.checkTimeoutMs)]);
      const probe = `${PROBE_PREFIX}${randomUUID()}`;
      let step = 'HeadBucket';
      try {
        try {
          await client.send(new HeadBucketCommand({ Bucket: bucket }), { abortSignal });
        } catch (err) {
          // A HEAD answer has no body: a 403 does not say whether the key is unknown, the secret
          // wrong or the permission missing. The probe's PutObject answer does; the check fails either way.
          if (httpStatus(err) !== 403) throw err;
          try {
            await client.send(new PutObjectCommand({ Bucket: bucket, Key: probe, Body: 'ok', ContentType: 'text/plain' }), { abortSignal });
            await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: probe }), { abortSignal });
          } catch (detail) {
            if (DIAGNOSTIC_CODES.has(errorName(detail))) throw detail;
          }
          throw err;
        }
        step = 'PutObject';
        await client.send(new PutObjectCommand({ Bucket: bucket, Key: probe, Body: 'ok', ContentType: 'text/plain' }), { abortSignal });
        step = 'DeleteObject';
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: probe }), { abortSignal });
      } catch (err) {
        throw new Error(explain(err, step, abortSignal));
      }
    },

    async close(): Promise<void> {
      closed = true;
      clearTimeout(retryTimer);
      if (leftovers.size > 0) {
        log.warn(
          { keys: [...new Set([...leftovers.values()].map((l) => l.key))] },
          'storage: stopping with clean-up the store was too long away for (a bucket lifecycle rule for incomplete multipart uploads removes open uploads)',
        );
      }
      client.destroy();
    },
  };

  /** A readiness failure as a sentence naming the variable to fix (never a secret). */
  function explain(err: unknown, step: string, signal: AbortSignal): string {
    const store = `${name} storage (bucket "${bucket}" at ${origin})`;
    const keys = `${vars.accessKeyId} / ${vars.secretAccessKey}`;
    const code = errorName(err);
    const status = httpStatus(err);
    const net = networkCode(err);
    if (net) return `${store}: cannot connect (${net}): check ${vars.endpoint}`;
    if (signal.aborted || code === 'TimeoutError' || code === 'AbortError') {
      return `${store}: no answer within ${config.checkTimeoutMs} ms: check ${vars.endpoint}`;
    }
    switch (code) {
      case 'InvalidAccessKeyId':
        return `${store}: the store does not know the access key in ${vars.accessKeyId}: check ${keys}`;
      case 'SignatureDoesNotMatch':
        return `${store}: the secret does not match the access key: check ${vars.secretAccessKey} (and ${vars.accessKeyId})`;
      case 'NoSuchBucket':
        return `${store}: no such bucket: check ${vars.bucket}`;
      case 'AccessDenied':
        return `${store}: access denied on ${step}: check ${keys} and that the key may read and write ${vars.bucket}`;
      case 'PermanentRedirect':
      case 'AuthorizationHeaderMalformed':
      case 'IllegalLocationConstraintException':
        return `${store}: the bucket is in another region: check ${vars.region}`;
    }
    // HeadBucket answers have no body, so only the status tells what went wrong.
    if (status === 404) return `${store}: no such bucket: check ${vars.bucket}`;
    if (status === 403) return `${store}: access denied on ${step} (unknown key, wrong secret, or no permission): check ${keys}`;
    if (status === 301 || status === 307) return `${store}: the bucket is in another region: check ${vars.region}`;
    return `${store}: ${step} failed (${code}${status ? `, HTTP ${status}` : ''}): check ${vars.endpoint} and ${keys}`;
  }

  return Object.freeze(driver);
}

/** `bytes 0-99/1234` → inclusive offsets and the object's size. */
export function parseContentRange(value: string): { start: number; end: number; size: number | undefined } | undefined {
  const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(value.trim());
  if (!m) return undefined;
  return { start: Number(m[1]), end: Number(m[2]), size: m[3] === '*' ? undefined : Number(m[3]) };
}

function safeOrigin(endpoint: string): string {
  try {
    return new URL(endpoint).origin;
  } catch {
    return '(invalid endpoint)';
  }
}

function errorName(err: unknown): string {
  if (err instanceof S3ServiceException) return err.name;
  if (err instanceof Error) return err.name;
  return typeof err;
}

function httpStatus(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

function isNotFound(err: unknown): boolean {
  const name = errorName(err);
  return name === 'NoSuchKey' || name === 'NotFound' || httpStatus(err) === 404;
}

/** Error codes that say exactly which variable is wrong. */
const DIAGNOSTIC_CODES = new Set(['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'NoSuchBucket']);

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EPIPE', 'CERT_HAS_EXPIRED', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'ERR_TLS_CERT_ALTNAME_INVALID', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN']);

/**
 * The store is away (no connection, reset, timed out) or says it cannot serve now (a 5xx other
 * than 501, which says a feature is missing for good; SlowDown): a DependencyUnavailableError,
 * which requests answer with 503 service_unavailable and Retry-After, and the core logs once per
 * outage. Anything else is returned as it is.
 */
function storeUnavailable(err: unknown): unknown {
  const status = httpStatus(err);
  // The core's rule for a connection that failed (refused, reset, timed out, no such host); a bad
  // certificate is a misconfiguration, not an absence, and is no outage there either.
  const away = outageOf(err) !== undefined || errorName(err) === 'TimeoutError' || errorName(err) === 'RequestTimeout' || (status !== undefined && status >= 500 && status !== 501);
  return away ? new DependencyUnavailableError('storage', { cause: err }) : err;
}

/** The socket-level code of a connection failure (possibly inside an AggregateError or a cause). */
function networkCode(err: unknown, depth = 0): string | undefined {
  if (!err || typeof err !== 'object' || depth > 3) return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
  for (const inner of [(err as { cause?: unknown }).cause, ...((err as { errors?: unknown[] }).errors ?? [])]) {
    const found = networkCode(inner, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/** What a log line may say about an error: its name, status and message (no request, no headers). */
function errorSummary(err: unknown): { name: string; status?: number; message: string } {
  const status = httpStatus(err);
  return { name: errorName(err), ...(status !== undefined && { status }), message: err instanceof Error ? err.message : String(err) };
}
