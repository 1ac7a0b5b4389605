/**
 * The artists plugin's request and response bodies as valibot schemas (API.md, "artists plugin").
 * Requests are validated by the core (422 `validation_failed` naming the field); responses are
 * documented in the OpenAPI document, and the type checks at the bottom keep them in step with
 * what the code sends.
 */
import * as v from 'valibot';
import { multiline, paginationQuery } from '../../core/index.ts';
import type { ArtistProfile as ArtistProfileType } from './contract.ts';

export const STATUSES = ['pending', 'approved', 'rejected'] as const;
export const MAX_LINKS = 10;

/** An absolute https URL with a host (no credentials in it: they would be shown to everyone). */
const HttpsUrl = v.pipe(
  v.string(),
  v.trim(),
  v.maxLength(2048),
  v.check((s) => {
    if (!URL.canParse(s)) return false;
    const url = new URL(s);
    return url.protocol === 'https:' && url.hostname !== '' && url.username === '' && url.password === '';
  }, 'must be an https URL'),
);

export const ApplyBody = v.object({
  stageName: v.pipe(v.string(), v.trim(), v.minLength(1, 'is required'), v.maxLength(100)),
  // Multi-line text (tab and newline allowed; other control characters are refused by the core).
  bio: v.optional(v.nullable(v.pipe(v.string(), multiline(), v.trim(), v.maxLength(2000)))),
  links: v.optional(v.pipe(v.array(HttpsUrl), v.maxLength(MAX_LINKS, `must have at most ${MAX_LINKS} links`))),
});
export type ApplyBody = v.InferOutput<typeof ApplyBody>;

/** A reviewer's reason: 1..500 characters, several lines allowed. */
const Reason = v.pipe(v.string(), multiline(), v.trim(), v.minLength(1, 'is required'), v.maxLength(500));

// Optional as a whole: an approval needs no reason, so a client may send no body at all.
export const ApproveBody = v.optional(v.object({ reason: v.optional(Reason) }));
export const RejectBody = v.object({ reason: Reason });

export const QueueQuery = v.object({
  ...paginationQuery,
  status: v.optional(v.picklist(STATUSES, `must be one of ${STATUSES.join(', ')}`)),
});

/** Where a walk of the queue resumes: the timestamp at full (microsecond) precision, and the user id. */
export const QueuePosition = v.strictObject({
  submittedAt: v.pipe(v.string(), v.maxLength(40)),
  userId: v.pipe(v.string(), v.uuid()),
});
export type QueuePosition = v.InferOutput<typeof QueuePosition>;

const Timestamp = v.pipe(v.string(), v.isoTimestamp(), v.description('ISO 8601, UTC'));

export const ArtistProfile = v.pipe(
  v.object({
    userId: v.pipe(v.string(), v.description('The id of the artist’s user account')),
    stageName: v.string(),
    bio: v.nullable(v.string()),
    links: v.pipe(v.array(v.string()), v.description(`https URLs, at most ${MAX_LINKS}`)),
    status: v.picklist(STATUSES),
    reviewReason: v.pipe(v.nullable(v.string()), v.description('The reviewer’s reason for the last decision; null while pending')),
    submittedAt: v.pipe(Timestamp, v.description('When the current application was made (the queue’s order)')),
    reviewedAt: v.pipe(v.nullable(Timestamp), v.description('When the last decision was made; null while pending')),
  }),
  v.description('An artist’s profile and the state of its application.'),
);

export const ArtistProfilePage = v.object({
  items: v.pipe(v.array(ArtistProfile), v.description('Oldest application first')),
  nextCursor: v.pipe(v.nullable(v.string()), v.description('Pass as ?cursor= for the next page; null on the last page')),
});

/** The schemas the OpenAPI document lists by name. */
export const namedArtistsSchemas = { ArtistProfile };

// The contract's type and the documented schema describe the same object.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Mutable<T> = { -readonly [K in keyof T]: T[K] extends readonly (infer I)[] ? I[] : T[K] };
const typesAgree: [Same<v.InferOutput<typeof ArtistProfile>, Mutable<ArtistProfileType>>] = [true];
void typesAgree;
