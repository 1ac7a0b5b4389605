/**
 * The local driver's signed downloads: `GET /v1/storage/objects/<key>?expires=…&signature=…`
 * (signing.ts makes the URLs). No session: the signature is the authorisation, so an expired,
 * altered or missing one answers 403 `invalid_signature`, and a valid one for a missing object
 * 404 `not_found`. Answers carry Content-Type, Content-Length, ETag, Last-Modified,
 * Accept-Ranges and `Cache-Control: private, max-age=<seconds the URL still works>`.
 *
 * Ranges (RFC 9110): one `bytes=a-b`, `bytes=a-` or `bytes=-n` → 206 with Content-Range; one
 * that starts past the end (or `-0`, or any range of an empty object) → 416 with a
 * Content-Range that gives the size (`bytes *` then `/<size>`). Several ranges in one header are answered with the whole
 * object (200): a multipart/byteranges answer buys clients little for audio files and costs a
 * second framing of the bytes. A malformed Range header is ignored (200), as RFC 9110 allows, and
 * so is a Range whose `If-Range` names another ETag. `If-None-Match` with the current ETag → 304.
 */
import * as v from 'valibot';
import { coreProblems, type HttpContext, type PluginRouter } from '../../core/index.ts';
import type { ByteRange, StorageService } from './contract.ts';
import { storageProblems } from './problems.ts';
import { isValidKey } from './service.ts';
import { DOWNLOAD_PATH, verifyDownload } from './signing.ts';

const DownloadParams = v.object({ key: v.string() });

const DownloadQuery = v.object({
  // Optional in the schema so that a URL without them answers 403 invalid_signature, not 422.
  expires: v.optional(v.pipe(v.string(), v.description('Unix time (seconds) after which the URL stops working; part of the signature'))),
  signature: v.optional(v.pipe(v.string(), v.description('HMAC-SHA-256 of the key, the expiry and the disposition (base64url)'))),
  disposition: v.optional(v.pipe(v.string(), v.description('Content-Disposition to answer with, as signed (e.g. attachment; filename="master.wav")'))),
});

export interface DownloadRouteDeps {
  readonly storage: () => StorageService;
  readonly signingKey: () => string;
}

/** A whole-object answer (undefined), one range, or 416. */
type Wanted = ByteRange | undefined | 'unsatisfiable';

export function downloadRoute(router: PluginRouter, deps: DownloadRouteDeps): void {
  router.get(
    `${DOWNLOAD_PATH}/*key`,
    {
      summary: 'Download an object through a signed URL (local storage driver)',
      description:
        'The URL comes from the storage service (`signedUrl`); the key is the rest of the path, slashes included. ' +
        'Expired, altered or incomplete URLs answer 403 invalid_signature. One byte range per request (`Range: bytes=a-b`, `a-`, `-n`) ' +
        'answers 206 with Content-Range; a range past the end answers 416 with `Content-Range: bytes */<size>`; several ranges in one ' +
        'header are answered with the whole object (200); `If-None-Match` with the current ETag answers 304; HEAD answers the headers alone.',
      params: DownloadParams,
      query: DownloadQuery,
      responses: {
        200: {
          description: "The object's bytes",
          headers: {
            'Content-Type': 'The media type the object was stored with',
            'Content-Length': 'Size in bytes',
            ETag: 'Identifies this version of the object',
            'Accept-Ranges': 'bytes',
            'Cache-Control': 'private, max-age=<seconds until the URL expires>',
          },
        },
        206: { description: 'The requested byte range', headers: { 'Content-Range': 'bytes <first>-<last>/<size>' } },
        304: 'Not modified (If-None-Match matched the ETag)',
      },
      problems: ['invalid_signature', 'not_found', 'range_not_satisfiable'],
    },
    async (http) => {
      const { key } = http.state.params;
      const { expires, signature, disposition } = http.state.query;
      // Every way a URL can be wrong gives one answer; only a genuine URL learns it has expired.
      if (
        !isValidKey(key) ||
        expires === undefined ||
        !/^[1-9][0-9]{0,14}$/.test(expires) ||
        signature === undefined ||
        !verifyDownload({ key, expires, contentDisposition: disposition }, signature, deps.signingKey())
      ) {
        throw storageProblems.invalid_signature('The download URL is not valid.');
      }
      const remaining = Number(expires) - Math.floor(Date.now() / 1000);
      if (remaining < 0) throw storageProblems.invalid_signature('The download URL has expired.');

      const storage = deps.storage();
      const info = await storage.head(key);
      if (!info) throw coreProblems.not_found('No such object.');
      http.set('Cache-Control', `private, max-age=${remaining}`);
      http.set('Accept-Ranges', 'bytes');
      http.set('ETag', info.etag);
      http.set('Last-Modified', info.lastModified.toUTCString());
      if (matchesAny(http.get('If-None-Match'), info.etag)) {
        http.status = 304;
        return;
      }
      const ifRange = http.get('If-Range');
      const wanted: Wanted = ifRange !== '' && ifRange !== info.etag ? undefined : parseRange(http.get('Range'), info.sizeBytes);
      if (wanted === 'unsatisfiable') {
        throw storageProblems.range_not_satisfiable(`The object has ${info.sizeBytes} bytes.`, {
          headers: { 'Content-Range': `bytes */${info.sizeBytes}` },
        });
      }
      if (http.method === 'HEAD') {
        // Headers alone: no file is opened for a body nobody reads.
        const start = wanted?.start ?? 0;
        const end = wanted?.end ?? info.sizeBytes - 1;
        answer(http, { contentType: info.contentType, disposition, sizeBytes: info.sizeBytes, range: wanted && { start, end } });
        return;
      }
      const content = await storage.get(key, wanted ? { range: wanted } : {});
      if (!content) throw coreProblems.not_found('No such object.');
      http.set('ETag', content.etag); // the version actually read (the key may have been rewritten)
      answer(http, { contentType: content.contentType, disposition, sizeBytes: content.sizeBytes, range: content.range });
      http.body = content.body;
      // A response that never starts (the client left first) must still release the file.
      http.res.once('close', () => void content.body.cancel().catch(() => {}));
    },
  );
}

function answer(
  http: HttpContext,
  a: { contentType: string; disposition: string | undefined; sizeBytes: number; range: { start: number; end: number } | undefined },
): void {
  http.status = a.range ? 206 : 200;
  http.set('Content-Type', a.contentType);
  if (a.disposition !== undefined) http.set('Content-Disposition', a.disposition);
  if (a.range) http.set('Content-Range', `bytes ${a.range.start}-${a.range.end}/${a.sizeBytes}`);
  http.set('Content-Length', String(a.range ? a.range.end - a.range.start + 1 : a.sizeBytes));
}

/** `If-None-Match`: `*` or a list of entity tags, compared weakly (RFC 9110 §13.1.2). */
function matchesAny(header: string, etag: string): boolean {
  if (header === '') return false;
  if (header.trim() === '*') return true;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
  return header.split(',').some((tag) => opaque(tag) === opaque(etag));
}

/** One byte range of an object of `size` bytes, or undefined for "the whole object". */
export function parseRange(header: string, size: number): Wanted {
  if (header === '') return undefined;
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  // Several ranges, another unit, or nonsense: ignored, the whole object is sent.
  if (!match) return undefined;
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return undefined;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  if (last !== '' && Number(last) < start) return undefined; // invalid range-spec: ignore the header
  if (!Number.isSafeInteger(start) || start >= size) return 'unsatisfiable';
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  return { start, end };
}
