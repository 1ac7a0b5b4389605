/**
 * The tracks plugin's contract: what a submitted master looks like (API.md `Track`) and the hooks
 * other plugins may listen to (metrics, notifications, a distribution pipeline). The tracks plugin
 * offers no service: other plugins react to its events rather than drive it.
 */
import { defineHook } from '../../core/index.ts';

/** Containers the upload accepts, sniffed from the file's first bytes (RF64 is `wav`, AIFC is `aiff`). */
export type TrackFormat = 'wav' | 'aiff' | 'flac' | 'mp3';

export type TrackStatus = 'submitted' | 'approved' | 'rejected';

/** API.md `Track`. */
export interface Track {
  readonly id: string;
  /** The user id of the artist who uploaded it. */
  readonly artistId: string;
  readonly title: string;
  /** Credited artists, in billing order. */
  readonly artists: readonly string[];
  /** 12 characters, `CCXXXYYNNNNN`, upper case, without hyphens. */
  readonly isrc: string | null;
  readonly genre: string;
  readonly explicit: boolean;
  /** `YYYY-MM-DD`. */
  readonly releaseDate: string | null;
  readonly status: TrackStatus;
  readonly format: TrackFormat;
  /** The media type the stored object is served with (from the sniffed format, not from the client). */
  readonly contentType: string;
  readonly sizeBytes: number;
  /** Hex SHA-256 of the bytes stored, computed while they streamed. */
  readonly sha256: string;
  /** Seconds, to the millisecond; null when the file does not say. */
  readonly durationSeconds: number | null;
  readonly reviewReason: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/**
 * Delivered after the transaction that caused them commits (never for one that rolled back).
 * Payloads carry ids and states, not metadata: listeners that need more read it themselves.
 */
export const tracksHooks = {
  submitted: defineHook<{ readonly trackId: string; readonly artistId: string; readonly format: TrackFormat; readonly sizeBytes: number }>(
    'tracks.track.submitted',
  ),
  reviewed: defineHook<{ readonly trackId: string; readonly artistId: string; readonly status: Exclude<TrackStatus, 'submitted'>; readonly reviewerId: string }>(
    'tracks.track.reviewed',
  ),
  deleted: defineHook<{ readonly trackId: string; readonly artistId: string }>('tracks.track.deleted'),
} as const;
