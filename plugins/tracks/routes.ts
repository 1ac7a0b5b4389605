/** The tracks plugin's HTTP surface (API.md, "tracks plugin"). */
import { multipartBody, page, type HttpContext, type PluginRouter } from '../../core/index.ts';
import { requiresRole } from '../auth/contract.ts';
import { rateLimit } from '../ratelimit/contract.ts';
import { isAdmin, notFound, requireOwner, visibleTrack } from './access.ts';
import type { TracksRouteContext } from './context.ts';
import { tracksProblems } from './problems.ts';
import { deleteTrack } from './removal.ts';
import { reviewTrack, type Review } from './review.ts';
import { ApproveBody, ListPosition, ListQuery, RejectBody, Track, TrackPage, TrackPatch } from './schemas.ts';
import { EXTENSIONS } from './sniff.ts';
import { MAX_METADATA_BYTES, receiveTrack } from './upload.ts';

const NO_STORE = { 'Cache-Control': 'no-store' };
/** Room for the metadata part, part headers and boundaries beside the largest audio file. */
const MULTIPART_OVERHEAD_BYTES = 64 * 1024;

export const UPLOAD_GROUP = 'tracks.upload';

export function registerTracksRoutes(router: PluginRouter, ctx: TracksRouteContext): void {
  const { maxBytes } = ctx.config;

  router.post(
    '/v1/tracks',
    {
      auth: 'required',
      meta: [rateLimit({ group: UPLOAD_GROUP, limit: 30, windowSeconds: 3600 })],
      body: multipartBody({
        maxFileBytes: maxBytes,
        maxFiles: 2,
        maxFieldBytes: MAX_METADATA_BYTES,
        maxFields: 4,
        maxTotalBytes: maxBytes + MULTIPART_OVERHEAD_BYTES,
        requiredFiles: ['audio'],
        // Pretty-printed JSON has newlines and tabs; control characters inside its strings are
        // refused by the metadata schema.
        multilineFields: ['metadata'],
      }),
      timeoutMs: ctx.config.uploadTimeoutMs,
      summary: 'Submit a track (approved artists)',
      description:
        'multipart/form-data with a `metadata` part (JSON: title, artists, isrc?, genre, explicit, releaseDate?) and an `audio` file part, in either order. ' +
        'The audio streams to storage as it arrives; its format is sniffed from its first bytes (WAV/RF64, AIFF/AIFC, FLAC, MP3 with or without ID3), never taken from the declared type or the file name. ' +
        `Optional header X-Content-SHA256: the hex SHA-256 of the audio, checked against the digest computed while streaming (400 checksum_mismatch). Files over ${maxBytes} bytes (TRACK_MAX_BYTES) are refused with 413 as soon as they pass it. ` +
        'On every failure no row and no stored object remain; metadata sent before the audio is checked before any audio is stored.',
      responses: { 201: { description: 'The track, submitted for review; Location names it', body: Track } },
      problems: ['unauthenticated', 'artist_not_approved', 'validation_failed', 'unsupported_media_type', 'payload_too_large', 'checksum_mismatch', 'malformed_body'],
    },
    async (http) => {
      const artist = await ctx.services.artists.requireApprovedArtist(http);
      const track = await receiveTrack(ctx.state.uploadDeps, http, artist.user.id);
      http.status = 201;
      http.set('Location', `/v1/tracks/${track.id}`);
      http.body = track;
    },
  );

  router.get(
    '/v1/tracks',
    {
      auth: 'required',
      query: ListQuery,
      summary: 'Tracks, newest first',
      description:
        "An artist's own tracks; admins see every artist's (filter with ?artistId=). Filter with ?status=. Cursors are tied to the filters they were issued for.",
      responses: { 200: { description: 'A page of tracks', body: TrackPage } },
      problems: ['unauthenticated'],
    },
    async (http) => {
      const principal = await ctx.services.auth.requireUser(http);
      const { limit, cursor, status, artistId } = http.state.query;
      const admin = isAdmin(principal);
      // An artist's list is their own whatever they ask; another artist's id simply matches nothing.
      const artistIds = admin ? (artistId === undefined ? undefined : [artistId]) : artistId === undefined || artistId === principal.user.id ? [principal.user.id] : [];
      const scope = `tracks.list:${admin ? 'admin' : principal.user.id}:${status ?? 'all'}:${artistId ?? 'all'}`;
      const after = cursor === undefined ? undefined : await ctx.cursors.decode(cursor, scope, ListPosition);
      const rows = await ctx.state.store.list(http.state.em, { artistIds, status, after, limit: limit + 1 });
      http.set(NO_STORE);
      http.body = await page(rows, { limit, codec: ctx.cursors, scope, positionOf: (row) => row.position, map: (row) => row.track });
    },
  );

  router.get(
    '/v1/tracks/:id',
    {
      auth: 'required',
      summary: 'One track',
      description: "Artists see their own tracks only: someone else's answers 404, as an unknown id does.",
      responses: { 200: { description: 'The track', body: Track } },
      problems: ['unauthenticated', 'not_found'],
    },
    async (http) => {
      const principal = await ctx.services.auth.requireUser(http);
      http.set(NO_STORE);
      http.body = (await visibleTrack(ctx, http, principal, http.params.id!)).track;
    },
  );

  router.patch(
    '/v1/tracks/:id',
    {
      auth: 'required',
      body: TrackPatch,
      summary: "Edit a submitted track's metadata (its artist)",
      description: 'Any of title, artists, isrc, genre, explicit, releaseDate (null clears isrc and releaseDate). Only while the track is submitted: once reviewed, 409 invalid_transition.',
      responses: { 200: { description: 'The track as stored', body: Track } },
      problems: ['unauthenticated', 'forbidden', 'not_found', 'invalid_transition'],
    },
    async (http) => {
      const principal = await ctx.services.auth.requireUser(http);
      const id = http.params.id!;
      const stored = await visibleTrack(ctx, http, principal, id);
      requireOwner(principal, stored);
      const edited = await ctx.state.store.edit(http.state.em, id, principal.user.id, http.state.body);
      if (!edited) throw await whyNot(ctx, http, id, 'edited');
      http.body = edited.track;
    },
  );

  router.delete(
    '/v1/tracks/:id',
    {
      auth: 'required',
      summary: 'Delete a submitted track and its audio (its artist)',
      description: 'Only while the track is submitted: once reviewed it is the label’s record (409 invalid_transition).',
      responses: { 204: { description: 'Deleted, with its stored audio' } },
      problems: ['unauthenticated', 'forbidden', 'not_found', 'invalid_transition'],
    },
    async (http) => {
      const principal = await ctx.services.auth.requireUser(http);
      const id = http.params.id!;
      requireOwner(principal, await visibleTrack(ctx, http, principal, id));
      const removed = await deleteTrack(ctx.state.removalDeps, id, principal.user.id);
      if (!removed) throw await whyNot(ctx, http, id, 'deleted');
      http.status = 204;
    },
  );

  router.get(
    '/v1/tracks/:id/audio',
    {
      auth: 'required',
      summary: 'Download the audio (redirect to a short-lived URL)',
      description: `302 to a signed URL that works for ${ctx.config.downloadUrlTtlSeconds} s; the bytes behind it are exactly those uploaded (their SHA-256 is the track's sha256).`,
      responses: { 302: { description: 'Location: the signed download URL' } },
      problems: ['unauthenticated', 'not_found'],
    },
    async (http) => {
      const principal = await ctx.services.auth.requireUser(http);
      const { track, storageKey } = await visibleTrack(ctx, http, principal, http.params.id!);
      const url = await ctx.services.storage.signedUrl(storageKey, {
        ttlSeconds: ctx.config.downloadUrlTtlSeconds,
        contentDisposition: attachment(track.title, EXTENSIONS[track.format]),
        request: http,
      });
      http.set(NO_STORE);
      http.status = 302;
      http.set('Location', url);
      http.body = { location: url };
    },
  );

  const reviewRoute = (decision: Review['decision']) => ({
    auth: 'required' as const,
    meta: [requiresRole('admin')],
    summary: decision === 'approved' ? 'Approve a submitted track (admin)' : 'Reject a submitted track (admin)',
    description: `Records the decision with one audit entry (track.${decision}) and queues an email to the artist, all in one transaction. Only a submitted track can be reviewed: a second review, or the loser of two at once, answers 409 invalid_transition.`,
    responses: { 200: { description: `The track, now ${decision}`, body: Track } },
    problems: ['unauthenticated', 'forbidden', 'not_found', 'invalid_transition'],
  });

  const review = async (http: HttpContext, id: string, decision: Review) => {
    const reviewer = await ctx.services.auth.requireRole(http, 'admin');
    return reviewTrack(ctx.state.reviewDeps, http, reviewer, id, decision);
  };

  router.post('/v1/admin/tracks/:id/approve', { ...reviewRoute('approved'), body: ApproveBody }, async (http) => {
    http.body = await review(http, http.params.id!, { decision: 'approved', reason: http.state.body?.reason ?? null });
  });

  router.post('/v1/admin/tracks/:id/reject', { ...reviewRoute('rejected'), body: RejectBody }, async (http) => {
    http.body = await review(http, http.params.id!, { decision: 'rejected', reason: http.state.body.reason });
  });
}

/** Why a conditional change matched nothing: the track is gone (404) or no longer submitted (409). */
async function whyNot(ctx: TracksRouteContext, http: HttpContext<unknown>, id: string, change: string): Promise<Error> {
  const current = await ctx.state.store.get(http.state.em, id);
  if (!current) return notFound();
  return tracksProblems.invalid_transition(`Only a submitted track can be ${change}; this one is ${current.track.status}.`);
}

/** `attachment` with the track's title as the file name: an ASCII fallback and the UTF-8 original. */
function attachment(title: string, extension: string): string {
  const ascii = title.replace(/[^A-Za-z0-9 ._-]/g, '_').slice(0, 100).trim() || 'track';
  // RFC 8187 value-chars: encodeURIComponent leaves ' ( ) * unescaped, which are not attr-chars.
  const encoded = encodeURIComponent(`${title}.${extension}`).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}.${extension}"; filename*=UTF-8''${encoded}`;
}
