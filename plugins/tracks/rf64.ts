/**
 * The duration of an RF64 / BW64 file (EBU Tech 3306, ITU-R BS.2088), from its first bytes.
 * music-metadata reads RIFF WAVE but not RF64, whose 32-bit sizes are 0xFFFFFFFF and whose real
 * sizes sit in a `ds64` chunk right after the header; the `fmt ` chunk that follows gives the
 * byte rate. Both come within the first few hundred bytes, which the sniffer has already read.
 */

const ascii = (bytes: Uint8Array, at: number, text: string): boolean =>
  bytes.length >= at + text.length && [...text].every((c, i) => bytes[at + i] === c.charCodeAt(0));

/** Seconds (dataSize ÷ byteRate), or undefined when `head` is not an RF64 header it can read. */
export function rf64DurationSeconds(head: Uint8Array): number | undefined {
  if (!(ascii(head, 0, 'RF64') || ascii(head, 0, 'BW64')) || !ascii(head, 8, 'WAVE') || !ascii(head, 12, 'ds64')) return undefined;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  if (head.length < 20 + 24) return undefined;
  const ds64Size = view.getUint32(16, true);
  const dataSize = view.getBigUint64(28, true);
  // Chunks after ds64, until `fmt ` (word-aligned, as every RIFF chunk).
  let at = 20 + ds64Size + (ds64Size % 2);
  while (head.length >= at + 8) {
    const size = view.getUint32(at + 4, true);
    if (ascii(head, at, 'fmt ')) {
      if (head.length < at + 16) return undefined;
      const byteRate = view.getUint32(at + 16, true);
      return byteRate > 0 ? Math.round((Number(dataSize) / byteRate) * 1000) / 1000 : undefined;
    }
    if (ascii(head, at, 'data')) return undefined;
    at += 8 + size + (size % 2);
  }
  return undefined;
}
