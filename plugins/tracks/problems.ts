/** The tracks plugin's own error codes (API.md, "tracks plugin"); the rest are the core's and storage's. */
import { defineProblems } from '../../core/index.ts';

export const tracksProblems = defineProblems({
  /** An edit, deletion or review of a track that is no longer `submitted` (the artists plugin uses the same code). */
  invalid_transition: { status: 409, title: 'Invalid transition' },
});
