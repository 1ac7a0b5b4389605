/**
 * Seals a queued message for the `payload` column: AES-256-GCM with a fresh random 12-byte IV,
 * stored as `version (1 byte) ‖ IV ‖ ciphertext+tag`. The row id is bound in as additional
 * data, so a sealed payload copied onto another row (another recipient) does not open.
 */
const VERSION = 1;
const IV_BYTES = 12;

export class PayloadCipher {
  readonly #key: CryptoKey;

  constructor(key: CryptoKey) {
    this.#key = key;
  }

  async seal(plaintext: string, rowId: string): Promise<Uint8Array> {
    const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
    const sealed = new Uint8Array(
      await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: aad(rowId) }, this.#key, new TextEncoder().encode(plaintext)),
    );
    const out = new Uint8Array(1 + IV_BYTES + sealed.length);
    out[0] = VERSION;
    out.set(iv, 1);
    out.set(sealed, 1 + IV_BYTES);
    return out;
  }

  /** Throws when the payload was sealed with another key, for another row, or was altered. */
  async open(payload: Uint8Array<ArrayBuffer>, rowId: string): Promise<string> {
    if (payload[0] !== VERSION || payload.length < 1 + IV_BYTES + 16) throw new Error('unknown payload format');
    const iv = payload.subarray(1, 1 + IV_BYTES);
    const plaintext = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv, additionalData: aad(rowId) },
      this.#key,
      payload.subarray(1 + IV_BYTES),
    );
    return new TextDecoder().decode(plaintext);
  }
}

function aad(rowId: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(`email_outbox:${rowId}`);
}
