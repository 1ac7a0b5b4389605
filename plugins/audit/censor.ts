/**
 * Defence in depth for what goes into the audit log: callers should never pass secrets or TINs,
 * and if one does, fields named like a secret are replaced and TIN-shaped numbers masked before
 * the entry is hashed and stored (an audit log is kept for years and read by many).
 */
import type { JsonValue } from '../../core/index.ts';

const SECRET_NAME = /password|passphrase|secret|token|api[-_]?key|private[-_]?key|signature|^(tin|ssn|ein|taxid|tax_id)$/i;
// 123-45-6789 (or 123 45 6789), 12-3456789, or nine digits in a row: SSN and EIN shapes. Not nine digits inside a
// hex identifier (a uuid's last group, a SHA-256): ids are what audit details are made of.
const TIN_SHAPE = /\b\d{3}[- ]\d{2}[- ]\d{4}\b|\b\d{2}-\d{7}\b|(?<![0-9A-Fa-f])\d{9}(?![0-9A-Fa-f])/g;

export const REDACTED = '[redacted]';

export function censorText(text: string): string {
  return text.replace(TIN_SHAPE, '[tin redacted]');
}

export function censorDetails(value: JsonValue, key?: string): JsonValue {
  if (key !== undefined && SECRET_NAME.test(key)) return REDACTED;
  if (typeof value === 'string') return censorText(value);
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v: JsonValue) => censorDetails(v));
  const object = value as { readonly [key: string]: JsonValue };
  return Object.fromEntries(Object.keys(object).map((k) => [k, censorDetails(object[k]!, k)]));
}
