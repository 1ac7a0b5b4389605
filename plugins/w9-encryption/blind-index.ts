/**
 * The TIN's blind index: a keyed HMAC-SHA-256 of its nine digits, so search finds every form with
 * one TIN without decrypting any, and a database dump alone cannot test guesses (there are only a
 * billion TINs: an unkeyed hash would fall to enumeration). Its key (`W9_INDEX_KEY`) is not in the
 * encryption ring, so rotating the ring leaves every index as it is.
 */
import { encodeBase64Url } from '../../core/index.ts';
import { decodeBase64, KeyRingError } from './key-ring.ts';

export interface BlindIndex {
  /** The index of a TIN's nine digits (base64url, 43 characters). */
  of(tinDigits: string): Promise<string>;
}

/** The index key's 32 bytes; throws KeyRingError (never echoing the key) when it is not base64 of 32 bytes. */
export function parseIndexKey(keyText: string, variable = 'W9_INDEX_KEY'): Uint8Array<ArrayBuffer> {
  const bytes = decodeBase64(keyText);
  if (bytes?.length !== 32) throw new KeyRingError(`${variable} is not base64 of 32 bytes (openssl rand -base64 32)`);
  return bytes;
}

export async function createBlindIndex(keyText: string, variable = 'W9_INDEX_KEY'): Promise<BlindIndex> {
  const bytes = parseIndexKey(keyText, variable);
  // A key of its own purpose, derived like the ring's, so the raw bytes serve nothing else.
  const material = await crypto.subtle.importKey('raw', bytes, 'HKDF', false, ['deriveKey']);
  const key = await crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: new TextEncoder().encode('empulse/w9/tin-index') },
    material,
    { name: 'HMAC', hash: 'SHA-256', length: 256 },
    false,
    ['sign'],
  );
  return {
    of: async (tinDigits: string) => encodeBase64Url(new Uint8Array(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(tinDigits)))),
  };
}
