/**
 * `POST /v1/tracks`: a multipart body with a `metadata` part (JSON) and an `audio` file part, in
 * either order. The audio streams through format sniffing and inspection (sniff-stream.ts) and
 * the storage service (SHA-256, byte limit, checksum) as it arrives; the row
 * is inserted only once the whole body has been read and stored.
 *
 * Nothing is left behind on any failure: bad metadata sent first is refused before a byte of audio
 * is stored; anything that fails after the audio was stored (metadata sent after it, a broken
 * body, the insert, an answer that timed out meanwhile) removes the object before the error
 * leaves; a failure while the audio streams is the storage service's to clean (it never commits
 * a partial object).
 */
import * as v from 'valibot';
import { v7 as uuidv7 } from 'uuid';
import { coreProblems, issueMessage, type Database, type FieldError, type HttpContext, type Logger, type MultipartBody } from '../../core/index.ts';
import type { StorageService, StoredObject } from '../storage/contract.ts';
import { tracksHooks, type Track, type TrackFormat } from './contract.ts';
import type { Emit } from './emit.ts';
import { removeObject } from './removal.ts';
import { TrackMetadata } from './schemas.ts';
import { CONTENT_TYPES, EXTENSIONS } from './sniff.ts';
import { sniffAudio } from './sniff-stream.ts';
import type { TrackStore } from './track-store.ts';

/** The most bytes a `metadata` part may have (a few hundred in practice). */
export const MAX_METADATA_BYTES = 16 * 1024;

export const CHECKSUM_HEADER = 'X-Content-SHA256';

export interface UploadDeps {
  readonly db: Database;
  readonly store: TrackStore;
  readonly storage: StorageService;
  readonly logger: Logger;
  readonly maxBytes: number;
  readonly emit: Emit;
}

interface StoredAudio extends StoredObject {
  readonly format: TrackFormat;
  readonly contentType: string;
  readonly durationSeconds: number | null;
}

const invalid = (path: string, message: string) =>
  coreProblems.validation_failed('The upload has invalid or missing parts.', { errors: [{ path, message }] });

export async function receiveTrack(deps: UploadDeps, http: HttpContext<MultipartBody>, artistId: string): Promise<Track> {
  const expectedSha256 = checksumHeader(http);
  let metadata: TrackMetadata | undefined;
  let audio: StoredAudio | undefined;
  try {
    for await (const part of http.state.body) {
      if (part.name === 'metadata') {
        if (metadata !== undefined) throw invalid('metadata', 'must be sent once');
        metadata = parseMetadata(part.kind === 'field' ? part.value : await readText(part.stream, 'metadata'));
      } else if (part.name === 'audio') {
        if (part.kind !== 'file') throw invalid('audio', 'must be a file part (with a filename), not a text field');
        if (audio !== undefined) throw invalid('audio', 'must be sent once');
        audio = await storeAudio(deps, part.stream, artistId, expectedSha256, http.state.signal);
      } else {
        throw invalid(part.name, 'is not a part of this form (send "metadata" and "audio")');
      }
    }
    if (metadata === undefined) throw invalid('metadata', 'is required (a JSON text part)');
    if (audio === undefined) throw invalid('audio', 'is required (a file part)');
    const [meta, object] = [metadata, audio];
    const track = await deps.db.transactional(async (em) => {
      const { track: inserted } = await deps.store.insert(em, {
        id: uuidv7(),
        artistId,
        metadata: meta,
        format: object.format,
        contentType: object.contentType,
        sizeBytes: object.sizeBytes,
        sha256: object.sha256,
        durationSeconds: object.durationSeconds,
        storageKey: object.key,
      });
      // The route may have answered already (its time budget, a client gone): then this upload
      // failed as far as the client knows, and nothing of it may stay.
      if (http.state.signal.aborted) throw cutOff(http);
      deps.emit(tracksHooks.submitted, { trackId: inserted.id, artistId, format: inserted.format, sizeBytes: inserted.sizeBytes }, { em });
      return inserted;
    });
    // The answer may also have been cut while the commit ran: undo it (the submitted hook has
    // gone out by then; listeners see a track.deleted right after).
    if (http.state.signal.aborted) {
      const undone = await deps.db.transactional(async (em) => {
        const row = await deps.store.remove(em, track.id, artistId);
        if (row) deps.emit(tracksHooks.deleted, { trackId: track.id, artistId }, { em });
        return row;
      });
      if (undone) throw cutOff(http);
    }
    return track;
  } catch (err) {
    if (audio !== undefined) await removeObject(deps, audio.key, 'a failed upload');
    throw err;
  }
}

const cutOff = (http: HttpContext<unknown>): unknown => http.state.signal.reason ?? coreProblems.request_timeout('The upload was cut off.');

async function storeAudio(
  deps: UploadDeps,
  file: ReadableStream<Uint8Array>,
  artistId: string,
  expectedSha256: string | undefined,
  signal: AbortSignal,
): Promise<StoredAudio> {
  const { format, stream, durationSeconds } = await sniffAudio(file);
  const contentType = CONTENT_TYPES[format];
  const key = deps.storage.newKey(`tracks/${artistId.toLowerCase()}`, EXTENSIONS[format]);
  const object = await deps.storage.put(stream, { key, contentType, visibility: 'private', maxBytes: deps.maxBytes, expectedSha256, signal });
  return { ...object, format, contentType, durationSeconds: durationSeconds() };
}

/** The announced SHA-256 of the audio, lower case; 422 when the header is there but is not 64 hex digits. */
function checksumHeader(http: HttpContext<unknown>): string | undefined {
  const value = http.get(CHECKSUM_HEADER);
  if (value === '') return undefined;
  if (!/^[0-9a-fA-F]{64}$/.test(value.trim())) throw invalid(CHECKSUM_HEADER, 'must be the hex SHA-256 of the audio (64 hexadecimal digits)');
  return value.trim().toLowerCase();
}

/** The `metadata` part: JSON, then the schema; errors name `metadata.<field>`. */
export function parseMetadata(text: string): TrackMetadata {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw invalid('metadata', 'must be a JSON object (the part is not valid JSON)');
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw invalid('metadata', 'must be a JSON object');
  const result = v.safeParse(TrackMetadata, json);
  if (result.success) return result.output;
  const errors: FieldError[] = result.issues.map((issue) => {
    const path = v.getDotPath(issue);
    // A strict object names the unknown key in the issue's input, not in its path.
    const unknownKey = issue.type === 'strict_object' && issue.expected === 'never' ? issue.path?.at(-1)?.key : undefined;
    const message = unknownKey !== undefined ? 'is not a metadata field (title, artists, isrc, genre, explicit, releaseDate)' : issueMessage(issue);
    return { path: path ? `metadata.${path}` : 'metadata', message };
  });
  throw coreProblems.validation_failed('The metadata part is invalid.', { errors });
}

/** A small text part sent as a file (`-F metadata=@track.json`): read whole, at most MAX_METADATA_BYTES. */
async function readText(stream: ReadableStream<Uint8Array>, name: string): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_METADATA_BYTES) {
      await reader.cancel().catch(() => {});
      // As for a text field over its limit (the core's maxFieldBytes): 413.
      throw coreProblems.payload_too_large(`The part "${name}" may be at most ${MAX_METADATA_BYTES} bytes.`, { headers: { Connection: 'close' } });
    }
    chunks.push(value);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(concat(chunks, size));
  } catch {
    throw invalid(name, 'must be UTF-8 text');
  }
}

function concat(chunks: readonly Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}