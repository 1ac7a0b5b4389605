/**
 * Request ids: keep a well-formed incoming `X-Request-Id`, otherwise make a fresh random UUID.
 * (`crypto.randomUUID` draws from a cached entropy pool: a UUIDv7 per request cost 5% of the
 * pipeline's CPU. Log lines carry their own timestamps, so ids need not sort by time.)
 */
const WELL_FORMED = /^[A-Za-z0-9._-]{1,128}$/;

export function acceptRequestId(incoming: string | undefined): string {
  return incoming !== undefined && WELL_FORMED.test(incoming) ? incoming : crypto.randomUUID();
}

/** W3C trace context: version-traceid-parentid-flags, lower-case hex. Anything else is dropped. */
const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

export function acceptTraceparent(incoming: string | undefined): string | undefined {
  return incoming !== undefined && TRACEPARENT.test(incoming) ? incoming : undefined;
}
