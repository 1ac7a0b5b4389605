/**
 * Body kinds for upload routes: `streamBody(...)` and `multipartBody(...)` make the option objects
 * a route passes as `body` instead of a valibot schema. They are branded with a symbol of this
 * module, so the pipeline can tell them from a schema (whose `kind` is `'schema'`) without guessing
 * from their shape, and nothing else can pass for them by accident.
 *
 * The options are checked when the route is declared (a typo'd limit fails the boot, not the first
 * upload), and the objects are frozen: the pipeline reads them on every request.
 */
import { parseMediaTypePattern } from './media-type.ts';

/** The brand; only this module's factories set it. */
export const BODY_KIND: unique symbol = Symbol('empulse.bodyKind');

/** How long an upload may wait for the client's next byte by default (nginx's default is 60 s). */
export const DEFAULT_IDLE_TIMEOUT_MS = 30_000;

/**
 * The overall cap of an upload route that sets no `timeoutMs`: one hour, a 1 GiB file at ~2.4
 * Mbit/s. JSON routes keep the kernel's `requestTimeoutMs` (30 s by default), which would cut any
 * large upload; routes expecting bigger files or slower links set their own `timeoutMs`.
 */
export const DEFAULT_UPLOAD_TIMEOUT_MS = 3_600_000;

export interface StreamBodyOptions {
  readonly [BODY_KIND]: true;
  readonly kind: 'stream';
  /** The most bytes the body may have; counted as they are read (413 `payload_too_large`). */
  readonly maxBytes: number;
  /** Accepted `Content-Type`s (`audio/wav`, `audio/*`); undefined accepts any (415 otherwise). */
  readonly mediaTypes: readonly string[] | undefined;
  /** Longest wait for the client's next byte while the route reads the body (503 `request_timeout`). */
  readonly idleTimeoutMs: number;
}

export interface MultipartBodyOptions {
  readonly [BODY_KIND]: true;
  readonly kind: 'multipart';
  /** The most bytes one file part may have (413). */
  readonly maxFileBytes: number;
  /** The most file parts (413). */
  readonly maxFiles: number;
  /** The most bytes one text field's value may have (413). */
  readonly maxFieldBytes: number;
  /** The most text fields (413). */
  readonly maxFields: number;
  /** The most bytes the whole body may have, boundaries and part headers included (413). */
  readonly maxTotalBytes: number;
  /** Accepted declared types of file parts (`audio/*`); undefined accepts any (415 otherwise). */
  readonly fileMediaTypes: readonly string[] | undefined;
  /** File parts that must be present, by field name (422 `validation_failed` naming each). */
  readonly requiredFiles: readonly string[];
  /** Text fields that may hold tab, newline and CRLF (as `multiline()` does for JSON fields). */
  readonly multilineFields: readonly string[];
  /** Longest wait for the client's next byte while the route reads the body (503 `request_timeout`). */
  readonly idleTimeoutMs: number;
}

/** A body kind that streams the request instead of parsing it whole. */
export type UploadBody = StreamBodyOptions | MultipartBodyOptions;

/** A text part of a multipart body: its value is whole (at most `maxFieldBytes`). */
export interface MultipartFieldPart {
  readonly kind: 'field';
  readonly name: string;
  readonly value: string;
}

/**
 * A file part of a multipart body. Its bytes arrive through `stream` as the client sends them:
 * read it to the end (or cancel it) before asking for the next part. A stream nobody has started
 * reading when the next part is asked for is skipped (it then errors if read later); a stream being
 * read holds the next part back until it ends, which is what keeps memory flat.
 */
export interface MultipartFilePart {
  readonly kind: 'file';
  readonly name: string;
  /** The client's file name without any path, path separators or control characters ('' if none). */
  readonly filename: string;
  /** The type the client declared for the part (lower case, without parameters): not sniffed. */
  readonly mediaType: string;
  readonly stream: ReadableStream<Uint8Array>;
}

export type MultipartPart = MultipartFieldPart | MultipartFilePart;

/** A multipart body: its parts in the order the client sent them, one at a time (iterate once). */
export type MultipartBody = AsyncIterable<MultipartPart>;

export interface StreamBodyInit {
  readonly maxBytes: number;
  readonly mediaTypes?: readonly string[];
  readonly idleTimeoutMs?: number;
}

export interface MultipartBodyInit {
  readonly maxFileBytes: number;
  readonly maxFiles: number;
  readonly maxFieldBytes: number;
  readonly maxFields: number;
  readonly maxTotalBytes: number;
  readonly fileMediaTypes?: readonly string[];
  readonly requiredFiles?: readonly string[];
  readonly multilineFields?: readonly string[];
  readonly idleTimeoutMs?: number;
}

/**
 * The route's body is a raw byte stream: `http.state.body` is a `ReadableStream<Uint8Array>` that
 * reads the request as the handler pulls (backpressure reaches the client). The stream errors with
 * the HttpProblem the route answers with: 413 past `maxBytes`, 503 after `idleTimeoutMs` without a
 * byte, 400 `malformed_body` when the client goes away.
 */
export function streamBody(init: StreamBodyInit): StreamBodyOptions {
  return Object.freeze({
    [BODY_KIND]: true as const,
    kind: 'stream' as const,
    maxBytes: positiveInteger('streamBody', 'maxBytes', init.maxBytes),
    mediaTypes: mediaTypes('streamBody', 'mediaTypes', init.mediaTypes),
    idleTimeoutMs: positiveInteger('streamBody', 'idleTimeoutMs', init.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS),
  });
}

/**
 * The route's body is `multipart/form-data`: `http.state.body` is an async iterable of its parts
 * (`for await (const part of http.state.body)`), text fields whole, file parts as streams. Every
 * limit is enforced while reading: 413 naming the limit, 415 for a file type not in
 * `fileMediaTypes`, 400 `malformed_body` for a broken body, 422 for control characters in a field
 * or file name and for a missing required file.
 */
export function multipartBody(init: MultipartBodyInit): MultipartBodyOptions {
  const name = 'multipartBody';
  return Object.freeze({
    [BODY_KIND]: true as const,
    kind: 'multipart' as const,
    maxFileBytes: positiveInteger(name, 'maxFileBytes', init.maxFileBytes),
    maxFiles: nonNegativeInteger(name, 'maxFiles', init.maxFiles),
    maxFieldBytes: positiveInteger(name, 'maxFieldBytes', init.maxFieldBytes),
    maxFields: nonNegativeInteger(name, 'maxFields', init.maxFields),
    maxTotalBytes: positiveInteger(name, 'maxTotalBytes', init.maxTotalBytes),
    fileMediaTypes: mediaTypes(name, 'fileMediaTypes', init.fileMediaTypes),
    requiredFiles: Object.freeze([...(init.requiredFiles ?? [])]),
    multilineFields: Object.freeze([...(init.multilineFields ?? [])]),
    idleTimeoutMs: positiveInteger(name, 'idleTimeoutMs', init.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS),
  });
}

/** True for the objects `streamBody` and `multipartBody` make (never for a valibot schema). */
export function isUploadBody(value: unknown): value is UploadBody {
  return typeof value === 'object' && value !== null && (value as { [BODY_KIND]?: unknown })[BODY_KIND] === true;
}

/** The most bytes the whole request body may have. */
export const bodyByteLimit = (body: UploadBody): number => (body.kind === 'stream' ? body.maxBytes : body.maxTotalBytes);

function positiveInteger(factory: string, option: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new TypeError(`${factory}: ${option} must be a positive integer (got ${value})`);
  return value;
}

function nonNegativeInteger(factory: string, option: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new TypeError(`${factory}: ${option} must be an integer ≥ 0 (got ${value})`);
  return value;
}

function mediaTypes(factory: string, option: string, patterns: readonly string[] | undefined): readonly string[] | undefined {
  if (patterns === undefined) return undefined;
  if (patterns.length === 0) throw new TypeError(`${factory}: ${option} must list at least one media type (leave it out to accept any)`);
  return Object.freeze(
    patterns.map((p) => {
      const parsed = parseMediaTypePattern(p);
      if (parsed === undefined) throw new TypeError(`${factory}: ${option} has "${p}", which is not "type/subtype" or "type/*"`);
      return parsed;
    }),
  );
}
