/**
 * The local driver's signed download URLs: `GET /v1/storage/objects/<key>?expires=<unix
 * seconds>&signature=<hmac>[&disposition=<Content-Disposition>]`. The signature is HMAC-SHA-256
 * (STORAGE_SIGNING_KEY) over the key, the expiry and the content disposition, so changing any of
 * them (or the signature) makes the URL worthless; it is compared in constant time.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Route prefix of signed downloads (the key follows, as path segments). */
export const DOWNLOAD_PATH = '/v1/storage/objects';

/** Control characters (and DEL): never in a header value we send back. */
const CONTROL = /[\u0000-\u001f\u007f]/;

export interface DownloadGrant {
  readonly key: string;
  /** Unix seconds after which the URL no longer works (as a number, or the URL's digits). */
  readonly expires: number | string;
  readonly contentDisposition?: string | undefined;
}

export function signDownload(grant: DownloadGrant, signingKey: string): string {
  // Versioned and newline-separated: a key never contains a newline (keys are checked), nor does
  // a disposition (refused below), so no two grants give one message.
  const message = `v1\n${grant.key}\n${grant.expires}\n${grant.contentDisposition ?? ''}`;
  return createHmac('sha256', signingKey).update(message).digest('base64url');
}

/** True when `signature` is the one `signDownload` makes for this grant (expiry not checked here). */
export function verifyDownload(grant: DownloadGrant, signature: string, signingKey: string): boolean {
  const expected = Buffer.from(signDownload(grant, signingKey));
  const given = Buffer.from(signature);
  // The length of a valid signature is public (43 characters); only equal lengths are compared.
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The absolute URL of a signed download, under `base` (the API's public origin, no trailing slash). */
export function downloadUrl(base: string, grant: DownloadGrant, signingKey: string): string {
  if (grant.contentDisposition !== undefined && CONTROL.test(grant.contentDisposition)) {
    throw new TypeError('storage.signedUrl: contentDisposition must not contain control characters');
  }
  const query = new URLSearchParams({ expires: String(grant.expires), signature: signDownload(grant, signingKey) });
  if (grant.contentDisposition !== undefined) query.set('disposition', grant.contentDisposition);
  const path = grant.key.split('/').map(encodeURIComponent).join('/');
  return `${base.replace(/\/+$/, '')}${DOWNLOAD_PATH}/${path}?${query.toString()}`;
}
