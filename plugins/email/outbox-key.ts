/**
 * The AES-256-GCM key that encrypts queued messages. Queued messages carry single-use tokens
 * (verification, password reset), so they never sit in the database in plaintext. The key is the
 * operator's EMAIL_OUTBOX_KEY, else derived from JWT_SECRET (HKDF, so the JWT secret itself is
 * never used for two purposes), else — outside production only — a random one per process.
 */
import { Buffer } from 'node:buffer';

const HKDF_INFO = 'empulse/email-outbox';

/** Raw key bytes from base64url, base64 or hex text; undefined unless exactly 32 bytes. */
export function parseOutboxKey(text: string): Uint8Array<ArrayBuffer> | undefined {
  const value = text.trim();
  if (/^[0-9a-f]{64}$/i.test(value)) return new Uint8Array(Buffer.from(value, 'hex'));
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(value)) return undefined;
  // Node's base64 decoder accepts both alphabets; it silently skips junk, hence the regex above.
  const bytes = Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  return bytes.length === 32 ? new Uint8Array(bytes) : undefined;
}

export type OutboxKeySource = 'EMAIL_OUTBOX_KEY' | 'JWT_SECRET' | 'random';

export interface OutboxKey {
  readonly key: CryptoKey;
  readonly source: OutboxKeySource;
}

export async function loadOutboxKey(options: { readonly outboxKey?: string | undefined; readonly jwtSecret?: string | undefined }): Promise<OutboxKey> {
  const usage: KeyUsage[] = ['encrypt', 'decrypt'];
  if (options.outboxKey !== undefined) {
    const raw = parseOutboxKey(options.outboxKey);
    if (!raw) throw new Error('EMAIL_OUTBOX_KEY must be 32 bytes (validated at boot)');
    return { key: await crypto.subtle.importKey('raw', raw, 'AES-GCM', false, usage), source: 'EMAIL_OUTBOX_KEY' };
  }
  if (options.jwtSecret) {
    const ikm = await crypto.subtle.importKey('raw', new TextEncoder().encode(options.jwtSecret), 'HKDF', false, ['deriveKey']);
    const key = await crypto.subtle.deriveKey(
      { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: new TextEncoder().encode(HKDF_INFO) },
      ikm,
      { name: 'AES-GCM', length: 256 },
      false,
      usage,
    );
    return { key, source: 'JWT_SECRET' };
  }
  return { key: await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, usage), source: 'random' };
}
