/** The artists plugin's error codes (API.md, "artists plugin" and "tracks plugin"). */
import { defineProblems } from '../../core/index.ts';

export const artistsProblems = defineProblems({
  /** Raised by `requireApprovedArtist` for other plugins' routes (e.g. track uploads). */
  artist_not_approved: { status: 403, title: 'Artist not approved' },
  /** A review of an application that is no longer pending (the tracks plugin uses the same code and status). */
  invalid_transition: { status: 409, title: 'Invalid transition' },
});
