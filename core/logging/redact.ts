/**
 * Secret redaction for log lines. pino's path-based `redact` needs every path spelled out and,
 * with wildcards, cost ~200 µs per line here; this walks the (small) logged object once, copies
 * only what it changes, and matches field names case-insensitively at any depth up to 4.
 */
const SECRET_KEYS = new Set(
  [
    'password', 'newpassword', 'currentpassword', 'oldpassword', 'passwordhash', 'token', 'accesstoken',
    'refreshtoken', 'idtoken', 'secret', 'clientsecret', 'apikey', 'api_key', 'privatekey', 'authorization',
    'cookie', 'set-cookie', 'x-csrf-token', 'csrftoken', 'jwt_secret', 'jwt_private_key',
  ],
);

export const CENSOR = '[redacted]';
const MAX_DEPTH = 4;

/** Field names plugins add (e.g. `tin`), lower-cased; see `Redaction`. */
export type ExtraKeys = ReadonlySet<string>;
const NONE: ExtraKeys = new Set();

export function isSecretKey(key: string, extra: ExtraKeys = NONE): boolean {
  const lower = key.toLowerCase();
  return SECRET_KEYS.has(lower) || extra.has(lower);
}

/**
 * Returns `value` itself when it holds no secret field, otherwise a copy with them censored.
 * `extra` holds the field names plugins declared (`redact` in their definition).
 */
export function redactSecrets<T>(value: T, extra: ExtraKeys = NONE, depth = 0): T {
  if (depth >= MAX_DEPTH || value === null || typeof value !== 'object' || value instanceof Error || value instanceof Date) {
    return value;
  }
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    value.forEach((item, i) => {
      const clean = redactSecrets(item, extra, depth + 1);
      if (clean !== item) (copy ??= [...value])[i] = clean;
    });
    return (copy ?? value) as T;
  }
  let copy: Record<string, unknown> | undefined;
  for (const key in value) {
    const item = (value as Record<string, unknown>)[key];
    const clean = isSecretKey(key, extra) && item !== undefined ? CENSOR : redactSecrets(item, extra, depth + 1);
    if (clean !== item) (copy ??= { ...(value as Record<string, unknown>) })[key] = clean;
  }
  return (copy ?? value) as T;
}
