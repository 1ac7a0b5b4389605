/**
 * The tracks plugin's request and response bodies as valibot schemas (API.md, "tracks plugin").
 * The `metadata` part of an upload and a PATCH share the field rules; responses are documented in
 * the OpenAPI document, and the type check at the bottom keeps `Track` in step with the contract.
 */
import * as v from 'valibot';
import { multiline, paginationQuery } from '../../core/index.ts';
import type { Track as TrackType } from './contract.ts';

export const STATUSES = ['submitted', 'approved', 'rejected'] as const;
export const FORMATS = ['wav', 'aiff', 'flac', 'mp3'] as const;
export const MAX_CREDITED_ARTISTS = 20;

/** One line of text: trimmed, 1..max characters (control characters are refused by the core's rules, here too). */
const Line = (max: number) =>
  v.pipe(v.string(), v.trim(), v.minLength(1, 'is required'), v.maxLength(max), v.regex(/^[^\u0000-\u001F\u007F]*$/, 'must not contain control characters'));

/**
 * `CCXXXYYNNNNN`: country (2 letters), registrant (3 letters or digits), year (2 digits), designation
 * (5 digits). Hyphens and lower case are accepted on input (`us-s1z-99-00001`) and dropped.
 */
export const Isrc = v.pipe(
  v.string(),
  v.trim(),
  v.transform((s) => s.replaceAll('-', '').toUpperCase()),
  v.regex(/^[A-Z]{2}[A-Z0-9]{3}[0-9]{7}$/, 'must be an ISRC: CCXXXYYNNNNN (country, registrant, year, number), hyphens allowed'),
);

/** A calendar date, `YYYY-MM-DD`, that exists (no 2025-02-30), in years a release can have. */
const CalendarDate = v.pipe(
  v.string(),
  v.isoDate('must be a date, YYYY-MM-DD'),
  v.check((s) => {
    const d = new Date(`${s}T00:00:00Z`);
    return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(s);
  }, 'must be a date that exists'),
  // Recorded sound starts in the 1850s; anything far before or after is a typo (and year 0, which
  // PostgreSQL does not have, would be a 500).
  v.check((s) => s >= '1850-01-01' && s <= '2199-12-31', 'must be a date between 1850 and 2199'),
);

const fields = {
  title: Line(200),
  artists: v.pipe(
    v.array(Line(100)),
    v.minLength(1, 'must credit at least one artist'),
    v.maxLength(MAX_CREDITED_ARTISTS, `must credit at most ${MAX_CREDITED_ARTISTS} artists`),
  ),
  isrc: Isrc,
  genre: Line(50),
  explicit: v.boolean('must be true or false'),
  releaseDate: CalendarDate,
};

/**
 * The `metadata` part of `POST /v1/tracks` (JSON). Strict: a misspelt field (`releasedate`) is
 * refused by name rather than dropped.
 */
export const TrackMetadata = v.strictObject({
  title: fields.title,
  artists: fields.artists,
  isrc: v.optional(v.nullable(fields.isrc), null),
  genre: fields.genre,
  explicit: fields.explicit,
  releaseDate: v.optional(v.nullable(fields.releaseDate), null),
});
export type TrackMetadata = v.InferOutput<typeof TrackMetadata>;

/** `PATCH /v1/tracks/:id`: any of the metadata fields; null clears `isrc` and `releaseDate`. */
export const TrackPatch = v.pipe(
  v.strictObject({
    title: v.optional(fields.title),
    artists: v.optional(fields.artists),
    isrc: v.optional(v.nullable(fields.isrc)),
    genre: v.optional(fields.genre),
    explicit: v.optional(fields.explicit),
    releaseDate: v.optional(v.nullable(fields.releaseDate)),
  }),
  v.check((patch) => Object.values(patch).some((value) => value !== undefined), 'must change at least one field'),
);
export type TrackPatch = v.InferOutput<typeof TrackPatch>;

/** A reviewer's reason: 1..500 characters, several lines allowed. */
const Reason = v.pipe(v.string(), multiline(), v.trim(), v.minLength(1, 'is required'), v.maxLength(500));
// Optional as a whole: an approval needs no reason, so a client may send no body at all.
export const ApproveBody = v.optional(v.object({ reason: v.optional(Reason) }));
export const RejectBody = v.object({ reason: Reason });

export const ListQuery = v.object({
  ...paginationQuery,
  status: v.optional(v.picklist(STATUSES, `must be one of ${STATUSES.join(', ')}`)),
  artistId: v.optional(v.pipe(v.string(), v.uuid('must be a user id'))),
});

/** Where a walk of the list resumes: `created_at` at full (microsecond) precision, and the id. */
export const ListPosition = v.strictObject({
  createdAt: v.pipe(v.string(), v.maxLength(40)),
  id: v.pipe(v.string(), v.uuid()),
});
export type ListPosition = v.InferOutput<typeof ListPosition>;

const Timestamp = v.pipe(v.string(), v.isoTimestamp(), v.description('ISO 8601, UTC'));

export const Track = v.pipe(
  v.object({
    id: v.string(),
    artistId: v.pipe(v.string(), v.description('The user id of the artist who uploaded it')),
    title: v.string(),
    artists: v.pipe(v.array(v.string()), v.description('Credited artists, in billing order')),
    isrc: v.pipe(v.nullable(v.string()), v.description('12 characters CCXXXYYNNNNN, upper case, no hyphens')),
    genre: v.string(),
    explicit: v.boolean(),
    releaseDate: v.pipe(v.nullable(v.string()), v.description('YYYY-MM-DD')),
    status: v.picklist(STATUSES),
    format: v.pipe(v.picklist(FORMATS), v.description('Sniffed from the file’s bytes (RF64 is wav, AIFC is aiff)')),
    contentType: v.pipe(v.string(), v.description('audio/wav, audio/aiff, audio/flac or audio/mpeg: what the download is served as')),
    sizeBytes: v.number(),
    sha256: v.pipe(v.string(), v.description('Hex SHA-256 of the stored bytes, computed while they streamed')),
    durationSeconds: v.pipe(v.nullable(v.number()), v.description('Read from the file while it streamed; null when it does not say')),
    reviewReason: v.pipe(v.nullable(v.string()), v.description('The reviewer’s reason for the decision; null while submitted')),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  }),
  v.description('A submitted master and the state of its review.'),
);

export const TrackPage = v.object({
  items: v.pipe(v.array(Track), v.description('Newest first')),
  nextCursor: v.pipe(v.nullable(v.string()), v.description('Pass as ?cursor= for the next page; null on the last page')),
});

/** The schemas the OpenAPI document lists by name. */
export const namedTracksSchemas = { Track, TrackMetadata };

// The contract's type and the documented schema describe the same object.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Mutable<T> = { -readonly [K in keyof T]: T[K] extends readonly (infer I)[] ? I[] : T[K] };
const typesAgree: [Same<v.InferOutput<typeof Track>, Mutable<TrackType>>] = [true];
void typesAgree;
