/**
 * The route middleware of upload routes (`streamBody`, `multipartBody`): the checks that need no
 * byte of the body (media type, declared length), then the body as a stream or as parts in
 * `http.state.body`, and the handler raced against the body's failure.
 *
 * The race is what makes a broken rule answer at the moment it is broken: the handler may be deep
 * in a storage call that wraps, swallows or ignores the stream's error, but the route answers with
 * the body's problem (413, 415, 400, 422, 503) at once, and the request's signal tells the handler
 * to stop and clean up.
 */
import type { Middleware } from 'koa';
import type { HttpContext } from '../context.ts';
import { coreProblems } from '../problem.ts';
import type { LazyRequestState } from '../request-state.ts';
import { BodyReader, type IncomingBody } from './body-reader.ts';
import { bodyByteLimit, type UploadBody } from './kinds.ts';
import { essence, matchesMediaType } from './media-type.ts';
import { multipartParts } from './multipart-body.ts';

type Mw = Middleware<LazyRequestState & HttpContext['state'], HttpContext>;

export function uploadBody(body: UploadBody): Mw {
  const maxBytes = bodyByteLimit(body);
  return async (ctx, next) => {
    const contentType = ctx.get('content-type');
    if (body.kind === 'multipart') {
      if (essence(contentType) !== 'multipart/form-data') throw coreProblems.unsupported_media_type('Send the body as multipart/form-data.');
    } else if (body.mediaTypes && hasBody(ctx) && !matchesMediaType(essence(contentType), body.mediaTypes)) {
      throw coreProblems.unsupported_media_type(`Send the body as ${body.mediaTypes.join(', ')}.`);
    }
    // Refused before a byte is read (and the pipeline closes the connection rather than read the
    // rest); a missing or understated length is caught while reading.
    if (Number(ctx.get('content-length')) > maxBytes) throw coreProblems.payload_too_large(tooLarge(body));

    const reader = new BodyReader(ctx.req as IncomingBody, {
      maxBytes,
      tooLarge: tooLarge(body),
      idleTimeoutMs: body.idleTimeoutMs,
      signal: ctx.state.signal,
      onFailure: (problem) => ctx.state.abort(problem),
    });
    try {
      ctx.state.body = body.kind === 'stream' ? reader.stream : multipartParts(reader, contentType, body);
      await Promise.race([next(), reader.failed]);
      // A failure the handler caught and answered over is still the route's answer.
      if (reader.failure !== undefined) throw reader.failure;
    } finally {
      reader.release();
    }
  };
}

function tooLarge(body: UploadBody): string {
  return body.kind === 'stream'
    ? `The body may be at most ${body.maxBytes} bytes.`
    : `The multipart body may be at most ${body.maxTotalBytes} bytes in all (maxTotalBytes).`;
}

function hasBody(ctx: HttpContext): boolean {
  const length = ctx.get('content-length');
  return ctx.get('transfer-encoding') !== '' || (length !== '' && length !== '0');
}
