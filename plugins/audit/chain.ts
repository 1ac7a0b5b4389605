/**
 * The hash chain: each entry's hash is SHA-256 over a canonical encoding of its content and the
 * previous entry's hash, so changing, removing or reordering any entry breaks every later link.
 * Web Crypto only (the core's rule for code that may run on Deno).
 */
import type { JsonValue } from '../../core/index.ts';
import type { AuditEntry } from './contract.ts';

/** The `prev_hash` of the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

/** Everything an entry's hash covers: the entry as the API shows it, its place, and its link. */
export interface ChainedContent extends Omit<AuditEntry, 'at' | 'details'> {
  readonly seq: number;
  readonly at: Date;
  readonly details: JsonValue;
  readonly prevHash: string;
}

export async function entryHash(c: ChainedContent): Promise<string> {
  // Version first, fixed field order, details with sorted keys: one byte string per content.
  const encoded = canonicalJson([
    1,
    c.seq,
    c.id,
    c.at.toISOString(),
    c.actor,
    c.actorId,
    c.action,
    c.targetType,
    c.targetId,
    c.reason,
    c.requestId,
    c.ip,
    c.details,
    c.prevHash,
  ]);
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(encoded));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** JSON with object keys sorted at every depth (jsonb does not keep the order it was given). */
export function canonicalJson(value: JsonValue): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((v: JsonValue) => canonicalJson(v)).join(',')}]`;
  const object = value as { readonly [key: string]: JsonValue };
  return `{${Object.keys(object)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(object[k]!)}`)
    .join(',')}}`;
}
