/**
 * Media types as upload routes compare them: `type/subtype`, lower case, parameters dropped
 * (`multipart/form-data; boundary=…` is `multipart/form-data`). Patterns are exact types or
 * `type/*`; `*\/*` accepts anything that is a media type at all. Only the declared type is
 * compared: what the bytes really are is for the route to sniff.
 */

// RFC 9110 token characters.
const TOKEN = "[!#$%&'*+.^_`|~0-9a-z-]+";
const MEDIA_TYPE = new RegExp(`^${TOKEN}/${TOKEN}$`);

/** `type/subtype` of a Content-Type header value, or undefined when it is not one. */
export function essence(contentType: string | undefined): string | undefined {
  if (contentType === undefined) return undefined;
  const semicolon = contentType.indexOf(';');
  const type = (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
  return MEDIA_TYPE.test(type) ? type : undefined;
}

/** A pattern in its canonical (lower-case) form, or undefined when it is malformed. */
export function parseMediaTypePattern(pattern: string): string | undefined {
  const p = pattern.trim().toLowerCase();
  return MEDIA_TYPE.test(p) && (!p.startsWith('*/') || p === '*/*') ? p : undefined;
}

/** True when `type` (already an essence) matches one of the canonical `patterns`. */
export function matchesMediaType(type: string | undefined, patterns: readonly string[]): boolean {
  if (type === undefined) return false;
  const major = type.slice(0, type.indexOf('/'));
  return patterns.some((p) => p === type || p === '*/*' || (p.endsWith('/*') && p.slice(0, -2) === major));
}
