/**
 * What kind of audio a file is, from its first bytes only (never the client's Content-Type or file
 * name, which say what the client believes, not what the bytes are). Pure functions over a byte
 * prefix: the streaming side (sniff-stream.ts) feeds them and decides when to stop looking; the
 * format's inspector (inspect/) then checks the rest of the file as it streams.
 *
 * - WAV: `RIFF`, `RF64` (EBU Tech 3306) or `BW64` (ITU-R BS.2088), then `WAVE` at offset 8.
 * - AIFF: `FORM`, then `AIFF` or `AIFC` at offset 8.
 * - FLAC: `fLaC`.
 * - MP3: an MPEG audio frame header (sync, version, layer, bitrate, sample rate all valid) whose
 *   successor frame, when the prefix reaches it, starts where the first frame's length says; or
 *   an ID3v2 tag first, after which the same frame test applies where the tag ends (the tag may be
 *   megabytes of cover art: the stream keeps going while it passes, see inspect/mp3.ts).
 */
import { ascii } from './bytes.ts';
import type { TrackFormat } from './contract.ts';

export const CONTENT_TYPES: Readonly<Record<TrackFormat, string>> = Object.freeze({
  wav: 'audio/wav',
  aiff: 'audio/aiff',
  flac: 'audio/flac',
  mp3: 'audio/mpeg',
});

export const EXTENSIONS: Readonly<Record<TrackFormat, string>> = Object.freeze({ wav: 'wav', aiff: 'aiff', flac: 'flac', mp3: 'mp3' });

export type Sniffed =
  | { readonly kind: 'format'; readonly format: TrackFormat }
  /** An ID3v2 tag of `tagBytes` bytes (header and footer included) opens the file. */
  | { readonly kind: 'id3'; readonly tagBytes: number }
  /** Undecided: look again with at least `atLeast` bytes (or decide with what there is at the end). */
  | { readonly kind: 'more'; readonly atLeast: number }
  | { readonly kind: 'unknown' };

/** Bytes that decide every container but MP3 (whose second frame may lie further). */
export const HEADER_BYTES = 12;


/**
 * The verdict on `head`, the first bytes of the file. `ended` says there are no more bytes: an
 * undecided prefix is then decided with what there is.
 */
export function sniff(head: Uint8Array, ended: boolean): Sniffed {
  if (head.length < HEADER_BYTES && !ended) return { kind: 'more', atLeast: HEADER_BYTES };
  if ((ascii(head, 0, 'RIFF') || ascii(head, 0, 'RF64') || ascii(head, 0, 'BW64')) && ascii(head, 8, 'WAVE')) return { kind: 'format', format: 'wav' };
  if (ascii(head, 0, 'FORM') && (ascii(head, 8, 'AIFF') || ascii(head, 8, 'AIFC'))) return { kind: 'format', format: 'aiff' };
  if (ascii(head, 0, 'fLaC')) return { kind: 'format', format: 'flac' };
  const tag = id3TagBytes(head);
  if (tag !== undefined) return { kind: 'id3', tagBytes: tag };
  return sniffMpegFrames(head, 0, ended);
}

/**
 * The total size of an ID3v2 tag opening `head` (10-byte header, body, optional 10-byte footer),
 * or undefined when `head` does not open with a well-formed ID3v2 header.
 */
export function id3TagBytes(head: Uint8Array): number | undefined {
  if (head.length < 10 || !ascii(head, 0, 'ID3')) return undefined;
  const [major, revision, flags] = [head[3]!, head[4]!, head[5]!];
  if (major < 2 || major > 4 || revision === 0xff) return undefined;
  // The size is "syncsafe": four 7-bit bytes.
  for (let i = 6; i < 10; i++) if (head[i]! >= 0x80) return undefined;
  const size = (head[6]! << 21) | (head[7]! << 14) | (head[8]! << 7) | head[9]!;
  const footer = major === 4 && (flags & 0x10) !== 0 ? 10 : 0;
  return 10 + size + footer;
}

// Kilobits per second by [version 1 or 2][layer 1..3][index]; index 0 ("free") and 15 are refused.
const BITRATES: Readonly<Record<string, readonly number[]>> = {
  '1-1': [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
  '1-2': [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
  '1-3': [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  '2-1': [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
  '2-2': [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
  '2-3': [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
};
const SAMPLE_RATES: Readonly<Record<number, readonly number[]>> = { 3: [44100, 48000, 32000], 2: [22050, 24000, 16000], 0: [11025, 12000, 8000] };

/** What an MPEG audio frame header says. */
export interface MpegFrame {
  /** The frame's length in bytes, header included. */
  readonly bytes: number;
  /** Samples per channel the frame decodes to. */
  readonly samples: number;
  readonly sampleRate: number;
  readonly mpeg1: boolean;
  readonly mono: boolean;
  /** Version, layer and rate bits: frames of one stream share them. */
  readonly kind: number;
}

/** The MPEG audio frame header at `at` of `bytes`, or undefined when there is none there. */
export function mpegFrame(bytes: Uint8Array, at: number): MpegFrame | undefined {
  if (bytes.length < at + 4) return undefined;
  const [b0, b1, b2, b3] = [bytes[at]!, bytes[at + 1]!, bytes[at + 2]!, bytes[at + 3]!];
  if (b0 !== 0xff || (b1 & 0xe0) !== 0xe0) return undefined;
  const versionBits = (b1 >> 3) & 0b11; // 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5, 1: reserved
  const layerBits = (b1 >> 1) & 0b11; // 3: layer I, 2: layer II, 1: layer III, 0: reserved
  const bitrateIndex = b2 >> 4;
  const rateIndex = (b2 >> 2) & 0b11;
  if (versionBits === 1 || layerBits === 0 || bitrateIndex === 0 || bitrateIndex === 15 || rateIndex === 3) return undefined;
  const layer = 4 - layerBits;
  const mpeg1 = versionBits === 3;
  const kbps = BITRATES[`${mpeg1 ? 1 : 2}-${layer}`]![bitrateIndex]!;
  const sampleRate = SAMPLE_RATES[versionBits]![rateIndex]!;
  const padding = (b2 >> 1) & 1;
  const samples = layer === 1 ? 384 : layer === 3 && !mpeg1 ? 576 : 1152;
  const length = layer === 1 ? (Math.floor((12 * kbps * 1000) / sampleRate) + padding) * 4 : Math.floor(((samples / 8) * kbps * 1000) / sampleRate) + padding;
  return { bytes: length, samples, sampleRate, mpeg1, mono: b3 >> 6 === 3, kind: (b1 & 0x1e) | (rateIndex << 5) };
}

/** The length in bytes of the MPEG audio frame whose header starts at `at`, or undefined if none does. */
export const mpegFrameBytes = (bytes: Uint8Array, at: number): number | undefined => mpegFrame(bytes, at)?.bytes;

/**
 * An MPEG audio stream starting at `at` of `bytes`: a valid frame header, and the next frame's
 * header where its length says (random bytes pass the first test one time in a few thousand, the
 * pair almost never). A file that ends before its second frame header is refused.
 */
export function sniffMpegFrames(bytes: Uint8Array, at: number, ended: boolean): Sniffed {
  const length = mpegFrameBytes(bytes, at);
  if (length === undefined) return bytes.length < at + 4 && !ended ? { kind: 'more', atLeast: at + 4 } : { kind: 'unknown' };
  const next = at + length;
  if (bytes.length >= next + 4) return mpegFrameBytes(bytes, next) === undefined ? { kind: 'unknown' } : { kind: 'format', format: 'mp3' };
  // A file that ends before a second frame is not a recording anyone would submit.
  return ended ? { kind: 'unknown' } : { kind: 'more', atLeast: next + 4 };
}
