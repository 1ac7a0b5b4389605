/**
 * What every format's inspector does: it sees the file's bytes as they stream to storage and, at
 * the end, says whether the file holds what its format requires (a WAV's `fmt ` and `data`
 * chunks, an MP3's consecutive frames…) and, when the file says, how long it plays. A file that
 * is not what it claims fails the upload with 415 while its bytes are still in flight, so the
 * storage put aborts and keeps nothing.
 *
 * Written for this plugin rather than taken from music-metadata (used by the tests to check our
 * fixtures): that parser reads tags whole into memory at the size a file declares, so a crafted
 * upload could make it allocate gigabytes, and it reads a WAV's audio to the end to skip it.
 */
export type Verdict = { readonly valid: true; readonly durationSeconds: number | null } | { readonly valid: false; readonly reason: string };

export interface Inspector {
  /** The next bytes of the file; a verdict when the file is already known to be invalid. */
  push(chunk: Uint8Array): Extract<Verdict, { valid: false }> | undefined;
  /** The file has ended: is it valid, and how long does it play? */
  finish(): Verdict;
}

/** Seconds to the millisecond, or null for what is not a duration. */
export const seconds = (value: number): number | null => {
  const rounded = Number.isFinite(value) ? Math.round(value * 1000) / 1000 : 0;
  return rounded > 0 ? rounded : null;
};

export const invalid = (reason: string): Extract<Verdict, { valid: false }> => ({ valid: false, reason });
