/**
 * The file name a client declared for a multipart file part, made safe to show and to use as the
 * last segment of a storage key: no directories (a client may send `../../etc/passwd` or
 * `C:\Users\me\song.wav`), no `.` or `..`, at most 255 characters. Control characters are not
 * stripped here: they are refused before (422), as in every other text field.
 */

const MAX_LENGTH = 255;

export function safeFilename(declared: string): string {
  const base = declared.slice(Math.max(declared.lastIndexOf('/'), declared.lastIndexOf('\\')) + 1).trim();
  if (base === '.' || base === '..') return '';
  // By code point, so a cut never leaves half a surrogate pair.
  const chars = Array.from(base);
  return chars.length > MAX_LENGTH ? chars.slice(0, MAX_LENGTH).join('') : base;
}
