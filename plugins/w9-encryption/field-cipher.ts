/**
 * Encrypted columns: AES-256-GCM with a random 96-bit IV per value, under the purpose key of the
 * ring's active key (key-ring.ts). A sealed value is versioned text that names its key:
 *
 *   v1.<keyId>.<iv, base64url>.<ciphertext and tag, base64url>
 *
 * The additional authenticated data binds it to where it lives (table, column, row id) and to its
 * own version and key id: a value copied to another row or column, or relabelled with another key
 * id, does not decrypt, and neither does any altered byte.
 */
import { decodeBase64Url, encodeBase64Url } from '../../core/index.ts';
import { purposeKey, type KeyRing, type RingKey } from './key-ring.ts';

/** Where a value lives, and what else of its row it belongs with: all of it is what it is sealed to. */
export interface FieldLocation {
  readonly table: string;
  readonly column: string;
  readonly rowId: string;
  /**
   * The row's other values the sealed one must stay with (its owner, the clear fields that
   * describe it): changing any of them in the table makes the value fail to open, so a row cannot
   * be handed to another user or relabelled without it showing.
   */
  readonly boundTo?: readonly (string | null)[];
}

export type SealedValueProblem = 'malformed' | 'unknown_key' | 'tampered';

/** A sealed value that cannot be opened. Says why and which key, never the value. */
export class SealedValueError extends Error {
  override readonly name = 'SealedValueError';
  readonly problem: SealedValueProblem;
  readonly keyId: string | undefined;
  constructor(problem: SealedValueProblem, message: string, keyId?: string) {
    super(message);
    this.problem = problem;
    this.keyId = keyId;
  }
}

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class FieldCipher {
  readonly #ring: KeyRing;
  readonly #keys = new Map<string, Promise<CryptoKey>>();

  constructor(ring: KeyRing) {
    this.#ring = ring;
  }

  /** The id of the key new values are sealed under. */
  get activeKeyId(): string {
    return this.#ring.active.id;
  }

  /** Whether the ring holds the key `keyId` (so values sealed under it open). */
  hasKey(keyId: string): boolean {
    return this.#ring.byId.has(keyId);
  }

  async encrypt(plaintext: string, at: FieldLocation): Promise<string> {
    const key = this.#ring.active;
    const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
    const sealed = await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv, additionalData: aad(key.id, at), tagLength: TAG_BYTES * 8 },
      await this.#key(key, at),
      new TextEncoder().encode(plaintext),
    );
    return [VERSION, key.id, encodeBase64Url(iv), encodeBase64Url(new Uint8Array(sealed))].join('.');
  }

  async decrypt(sealed: string, at: FieldLocation): Promise<string> {
    const { keyId, iv, data } = parseSealed(sealed);
    const key = this.#ring.byId.get(keyId);
    if (!key) throw new SealedValueError('unknown_key', `sealed under key "${keyId}", which is not in the key ring`, keyId);
    try {
      const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv, additionalData: aad(keyId, at), tagLength: TAG_BYTES * 8 }, await this.#key(key, at), data);
      return new TextDecoder('utf-8', { fatal: true }).decode(plain);
    } catch {
      throw new SealedValueError(
        'tampered',
        `does not verify under key "${keyId}" for ${at.table}.${at.column} of this row: it, or a value of the row it is bound to, was altered or moved from elsewhere, or the ring's key "${keyId}" is not the key it was sealed with`,
        keyId,
      );
    }
  }

  #key(key: RingKey, at: FieldLocation): Promise<CryptoKey> {
    const purpose = `${at.table}.${at.column}`;
    const cacheKey = `${key.id}/${purpose}`;
    let derived = this.#keys.get(cacheKey);
    if (!derived) {
      derived = purposeKey(key, purpose);
      this.#keys.set(cacheKey, derived);
    }
    return derived;
  }
}

/** The key id a sealed value names (for rotation and checks), without opening it. */
export function sealedKeyId(sealed: string): string {
  return parseSealed(sealed).keyId;
}

function parseSealed(sealed: string): { keyId: string; iv: Uint8Array<ArrayBuffer>; data: Uint8Array<ArrayBuffer> } {
  const parts = sealed.split('.');
  const [version, keyId, ivText, dataText] = parts;
  if (parts.length !== 4 || version !== VERSION || !keyId) throw new SealedValueError('malformed', `is not a ${VERSION} sealed value`);
  const iv = decodeBase64Url(ivText!);
  const data = decodeBase64Url(dataText!);
  if (iv?.length !== IV_BYTES || data === undefined || data.length < TAG_BYTES) throw new SealedValueError('malformed', `is not a ${VERSION} sealed value`, keyId);
  return { keyId, iv, data };
}

function aad(keyId: string, at: FieldLocation): Uint8Array<ArrayBuffer> {
  // Unambiguous: each part is length-prefixed, so no two locations spell the same bytes.
  const parts = ['empulse/w9', VERSION, keyId, at.table, at.column, at.rowId, JSON.stringify(at.boundTo ?? [])];
  return new TextEncoder().encode(parts.map((p) => `${p.length}:${p}`).join('|'));
}
