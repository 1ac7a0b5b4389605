/**
 * AIFF and AIFC (FORM/AIFF, FORM/AIFC; big-endian chunks in any order). Walks every chunk,
 * reading `COMM` (channels, sample frames, sample size, sample rate as an 80-bit float, AIFC's
 * compression type) and noting where `SSND`'s samples start, skipping the rest by size. Valid
 * with a `COMM` chunk; the duration is the sample frames ÷ the rate, and for uncompressed data
 * no more frames than the file holds.
 */
import { ascii, view } from '../bytes.ts';
import { FieldReader } from './field-reader.ts';
import { invalid, seconds, type Inspector, type Verdict } from './inspector.ts';

const MAX_CHUNKS = 1000;
/** AIFC compression types whose frames are channels × bytes per sample (PCM and float). */
const PCM = new Set(['NONE', 'sowt', 'twos', 'in24', 'in32', 'raw ', 'fl32', 'FL32', 'fl64', 'FL64']);

interface Comm {
  readonly channels: number;
  readonly frames: number;
  readonly sampleBits: number;
  readonly rate: number;
  readonly pcm: boolean;
}

export class AiffInspector extends FieldReader implements Inspector {
  private aifc = false;
  private comm: Comm | undefined;
  private ssndStart: number | undefined;
  private ssndEnd = 0;
  private chunks = 0;
  private step: 'header' | 'chunk' | 'comm' = 'header';
  private next = 0;
  /** Where the FORM chunk ends: bytes after it (trailing junk) are not chunks of this file. */
  private formEnd = Number.POSITIVE_INFINITY;

  constructor() {
    super();
    this.want(0, 12);
  }

  protected got(bytes: Uint8Array, at: number): void {
    const v = view(bytes);
    switch (this.step) {
      case 'header':
        this.aifc = ascii(bytes, 8, 'AIFC');
        if (!ascii(bytes, 0, 'FORM') || !(this.aifc || ascii(bytes, 8, 'AIFF'))) return this.fail('no FORM/AIFF header');
        this.formEnd = 8 + v.getUint32(4, false);
        return this.chunkAt(12);
      case 'chunk': {
        const size = v.getUint32(4, false);
        if (++this.chunks > MAX_CHUNKS) return this.fail(`more than ${MAX_CHUNKS} chunks`);
        this.next = at + 8 + size + (size % 2);
        if (ascii(bytes, 0, 'COMM')) {
          const length = this.aifc ? 22 : 18;
          if (size < length) return this.fail('the COMM chunk is too short');
          this.step = 'comm';
          return this.want(at + 8, length);
        }
        if (ascii(bytes, 0, 'SSND') && size >= 8) {
          // offset and blockSize (4 bytes each) precede the samples.
          this.ssndStart = at + 16;
          this.ssndEnd = at + 8 + size;
        }
        return this.chunkAt(this.next);
      }
      case 'comm': {
        const rate = extended80(bytes.subarray(8, 18));
        const compression = this.aifc ? String.fromCharCode(...bytes.subarray(18, 22)) : 'NONE';
        this.comm = { channels: v.getUint16(0, false), frames: v.getUint32(2, false), sampleBits: v.getUint16(6, false), rate, pcm: PCM.has(compression) };
        if (!(rate >= 1 && rate <= 1_000_000) || this.comm.channels === 0) return this.fail('the COMM chunk gives no channels or no plausible sample rate');
        if (this.comm.pcm && !(this.comm.sampleBits >= 1 && this.comm.sampleBits <= 64)) return this.fail('the COMM chunk gives no plausible sample size');
        return this.chunkAt(this.next);
      }
    }
  }


  finish(): Verdict {
    if (this.failure !== undefined) return invalid(this.failure);
    const comm = this.comm;
    if (comm === undefined) return invalid('no COMM chunk');
    if (comm.frames > 0 && this.ssndStart === undefined) return invalid('no SSND chunk for the sample frames COMM announces');
    let frames = comm.frames;
    if (comm.pcm) {
      const frameBytes = comm.channels * Math.ceil(comm.sampleBits / 8);
      const held = this.ssndStart === undefined ? 0 : Math.max(0, Math.min(this.ssndEnd, this.length) - this.ssndStart);
      frames = Math.min(frames, Math.floor(held / frameBytes));
    }
    return { valid: true, durationSeconds: seconds(frames / comm.rate) };
  }

  private chunkAt(at: number): void {
    // The FORM is over (a sensible size only: some writers leave it wrong, then every chunk counts).
    if (at + 8 > this.formEnd && this.formEnd > 12) return this.done();
    this.step = 'chunk';
    this.want(at, 8);
  }

}

/** An IEEE 754 80-bit extended float (big-endian), as AIFF stores its sample rate. */
export function extended80(bytes: Uint8Array): number {
  const v = view(bytes);
  const exponent = v.getUint16(0, false) & 0x7fff;
  const sign = bytes[0]! & 0x80 ? -1 : 1;
  const mantissa = v.getUint32(2, false) * 2 ** 32 + v.getUint32(6, false);
  if (exponent === 0 && mantissa === 0) return 0;
  if (exponent === 0x7fff) return Number.NaN;
  return sign * mantissa * 2 ** (exponent - 16383 - 63);
}
