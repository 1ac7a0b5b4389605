/**
 * Opaque, tamper-proof list cursors: `base64url(payload).base64url(mac)`, where the payload is
 * the JSON of a position in a list (e.g. `{ createdAt, id }` of the last item served) and the mac
 * is HMAC-SHA-256 over a format version byte, the scope and the payload. The scope names the list
 * and whose it is (e.g. `notes.list:<userId>`), so a cursor of one list or one user is refused
 * on another. Anything else (altered, truncated, foreign, from another deployment's key) answers
 * 422 `validation_failed` naming `cursor`, like any other invalid query parameter (API.md).
 *
 * Cursors are signed, not encrypted: a client can read the position it carries. Put nothing in
 * it the client may not see (ids and timestamps of items it was served are fine).
 */
import * as v from 'valibot';
import { decodeBase64Url, encodeBase64Url } from './base64url.ts';
import { coreProblems, type HttpProblem } from './problem.ts';

/** A JSON-serialisable value: what a cursor position may be. */
export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/** Longest cursor this service issues or accepts (the query schema refuses longer ones unread). */
export const MAX_CURSOR_LENGTH = 1024;

/** Bump when the signed layout changes: cursors of another version are refused, never misread. */
const FORMAT_VERSION = 1;
const MAC_BYTES = 32;

export interface CursorCodec {
  /** Signs `position` for the list `scope`. Throws a RangeError when the cursor would exceed MAX_CURSOR_LENGTH. */
  encode(position: JsonValue, scope: string): Promise<string>;
  /** The position `cursor` carries, when this codec made it for `scope`; otherwise throws 422 naming `cursor`. */
  decode(cursor: string, scope: string): Promise<JsonValue>;
  /**
   * Same, and the position must match `schema` (a cursor made before the position's shape
   * changed is refused the same way): use the output as keyset values.
   */
  decode<T>(cursor: string, scope: string, schema: v.GenericSchema<unknown, T>): Promise<T>;
}

/** The problem a refused cursor answers with: 422 `validation_failed`, `errors: [{ path: 'cursor' }]`. */
export const invalidCursor = (): HttpProblem =>
  coreProblems.validation_failed('The cursor is not valid for this list.', {
    errors: [{ path: 'cursor', message: 'is not a cursor this list issued (altered, truncated, or from another list)' }],
  });

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * A codec over an HMAC-SHA-256 key: raw key bytes (at least 32, e.g. from `loadOrCreateKey`) or
 * a CryptoKey imported for HMAC with SHA-256 and both `sign` and `verify` usages. Use one key per
 * purpose (cursors only) and the same key on every instance of a deployment.
 */
export async function createCursorCodec(key: Uint8Array | CryptoKey): Promise<CursorCodec> {
  const hmac = key instanceof Uint8Array ? await importKey(key) : checkKey(key);

  const encode = async (position: JsonValue, scope: string): Promise<string> => {
    const json = JSON.stringify(position);
    if (json === undefined) throw new TypeError('a cursor position must be a JSON value');
    const payload = encoder.encode(json);
    const mac = new Uint8Array(await crypto.subtle.sign('HMAC', hmac, signedBytes(scope, payload)));
    const cursor = `${encodeBase64Url(payload)}.${encodeBase64Url(mac)}`;
    if (cursor.length > MAX_CURSOR_LENGTH) {
      throw new RangeError(`the cursor would be ${cursor.length} characters (at most ${MAX_CURSOR_LENGTH}): keep positions small`);
    }
    return cursor;
  };

  async function decode(cursor: string, scope: string): Promise<JsonValue>;
  async function decode<T>(cursor: string, scope: string, schema: v.GenericSchema<unknown, T>): Promise<T>;
  async function decode<T>(cursor: string, scope: string, schema?: v.GenericSchema<unknown, T>): Promise<JsonValue | T> {
    if (typeof cursor !== 'string' || cursor.length > MAX_CURSOR_LENGTH) throw invalidCursor();
    const dot = cursor.indexOf('.');
    if (dot <= 0 || cursor.indexOf('.', dot + 1) !== -1) throw invalidCursor();
    const payload = decodeBase64Url(cursor.slice(0, dot));
    const mac = decodeBase64Url(cursor.slice(dot + 1));
    if (!payload || !mac || mac.length !== MAC_BYTES) throw invalidCursor();
    // crypto.subtle.verify compares in constant time.
    if (!(await crypto.subtle.verify('HMAC', hmac, mac, signedBytes(scope, payload)))) throw invalidCursor();
    let position: JsonValue;
    try {
      position = JSON.parse(decoder.decode(payload)) as JsonValue;
    } catch {
      throw invalidCursor(); // only reachable with the key: still refused, never a 500
    }
    if (!schema) return position;
    const result = v.safeParse(schema, position);
    if (!result.success) throw invalidCursor();
    return result.output;
  }

  return { encode, decode };
}

/** version (1 byte) ‖ scope length (4 bytes, big-endian) ‖ scope (UTF-8) ‖ payload. */
function signedBytes(scope: string, payload: Uint8Array): Uint8Array<ArrayBuffer> {
  const scopeBytes = encoder.encode(scope);
  const out = new Uint8Array(5 + scopeBytes.length + payload.length);
  const view = new DataView(out.buffer);
  view.setUint8(0, FORMAT_VERSION);
  view.setUint32(1, scopeBytes.length);
  out.set(scopeBytes, 5);
  out.set(payload, 5 + scopeBytes.length);
  return out;
}

async function importKey(bytes: Uint8Array): Promise<CryptoKey> {
  if (bytes.length < 32) throw new RangeError(`a cursor key needs at least 32 bytes (got ${bytes.length})`);
  return crypto.subtle.importKey('raw', new Uint8Array(bytes), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
}

function checkKey(key: CryptoKey): CryptoKey {
  const algorithm = key.algorithm as Partial<HmacKeyAlgorithm>;
  if (algorithm.name !== 'HMAC' || algorithm.hash?.name !== 'SHA-256' || !key.usages.includes('sign') || !key.usages.includes('verify')) {
    throw new TypeError('a cursor key must be an HMAC SHA-256 CryptoKey usable to sign and verify');
  }
  return key;
}
