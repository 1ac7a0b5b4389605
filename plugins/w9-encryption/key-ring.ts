/**
 * The W-9 key ring (`W9_ENCRYPTION_KEYS`: comma-separated `keyId:base64(32 bytes)`): the first key
 * encrypts, every key decrypts, so a new key is added first, `rotate-keys` re-encrypts, and the old
 * key is removed. Each ring key is never used directly: a key per purpose (per encrypted column)
 * is derived from it with HKDF-SHA-256, so one column's ciphertexts say nothing about another's.
 * Web Crypto only: the same code runs on Node and Deno.
 */

export interface RingKey {
  readonly id: string;
  /** The 32 secret bytes, imported for HKDF only (not extractable). */
  readonly material: CryptoKey;
}

export interface KeyRing {
  /** The key new values are encrypted under (the first of the ring). */
  readonly active: RingKey;
  /** Every key of the ring by id. */
  readonly byId: ReadonlyMap<string, RingKey>;
}

const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

export class KeyRingError extends Error {
  override readonly name = 'KeyRingError';
}

/** One entry of the ring as written: its id and its 32 secret bytes. */
export interface RingEntry {
  readonly id: string;
  readonly bytes: Uint8Array<ArrayBuffer>;
}

/**
 * Checks the ring's text without importing anything (config validation is synchronous); throws
 * KeyRingError saying what is wrong (never echoing a key).
 */
export function parseKeyRing(text: string, variable = 'W9_ENCRYPTION_KEYS'): readonly RingEntry[] {
  const entries = text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (entries.length === 0) throw new KeyRingError(`${variable} holds no key (expected keyId:base64 of 32 bytes, comma-separated)`);
  const parsed: RingEntry[] = [];
  for (const [index, entry] of entries.entries()) {
    const colon = entry.indexOf(':');
    const id = colon < 0 ? '' : entry.slice(0, colon);
    if (!KEY_ID.test(id)) throw new KeyRingError(`${variable}: entry ${index + 1} has no key id (letters, digits, _ or -, then ":")`);
    if (parsed.some((k) => k.id === id)) throw new KeyRingError(`${variable}: key id "${id}" appears twice`);
    const bytes = decodeBase64(entry.slice(colon + 1));
    if (bytes?.length !== 32) throw new KeyRingError(`${variable}: key "${id}" is not base64 of 32 bytes (openssl rand -base64 32)`);
    parsed.push({ id, bytes });
  }
  return parsed;
}

/** Parses and imports the ring; throws KeyRingError saying what is wrong (never echoing a key). */
export async function importKeyRing(text: string, variable = 'W9_ENCRYPTION_KEYS'): Promise<KeyRing> {
  const keys: RingKey[] = [];
  for (const { id, bytes } of parseKeyRing(text, variable)) {
    keys.push({ id, material: await crypto.subtle.importKey('raw', bytes, 'HKDF', false, ['deriveKey', 'deriveBits']) });
  }
  return { active: keys[0]!, byId: new Map(keys.map((k) => [k.id, k])) };
}

/** The AES-256-GCM key of `purpose` derived from `key` (HKDF-SHA-256, no salt, info names the purpose). */
export function purposeKey(key: RingKey, purpose: string): Promise<CryptoKey> {
  return crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: new TextEncoder().encode(`empulse/w9/${purpose}`) },
    key.material,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
}

/** Standard base64 (padding optional), or undefined when `text` is not base64. */
export function decodeBase64(text: string): Uint8Array<ArrayBuffer> | undefined {
  const clean = text.trim();
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean) || clean.replace(/=+$/, '').length % 4 === 1) return undefined;
  try {
    const binary = atob(clean.padEnd(Math.ceil(clean.length / 4) * 4, '='));
    return Uint8Array.from(binary, (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}
