/**
 * FLAC. The file must open with `fLaC` and a STREAMINFO block (type 0, 34 bytes), which gives the
 * sample rate and the total samples; the other metadata blocks (tags, pictures) are skipped by
 * their sizes, never read, up to the last one, after which an audio frame must start (its sync
 * code). The duration is total samples ÷ rate, or null where the encoder left the total at 0
 * ("unknown", which FLAC allows).
 */
import { ascii } from '../bytes.ts';
import { FieldReader } from './field-reader.ts';
import { invalid, seconds, type Inspector, type Verdict } from './inspector.ts';

const MAX_BLOCKS = 1000;

export class FlacInspector extends FieldReader implements Inspector {
  private verdict: Verdict | undefined;
  private durationSeconds: number | null = null;
  private blocks = 0;
  private step: 'streaminfo' | 'block' | 'frame' = 'streaminfo';

  constructor() {
    super();
    // "fLaC", the block header (4 bytes), STREAMINFO (34 bytes).
    this.want(0, 42);
  }

  protected got(b: Uint8Array, at: number): void {
    switch (this.step) {
      case 'streaminfo': {
        const length = (b[5]! << 16) | (b[6]! << 8) | b[7]!;
        if (!ascii(b, 0, 'fLaC') || (b[4]! & 0x7f) !== 0 || length !== 34) return this.fail('no STREAMINFO block after fLaC');
        const rate = (b[18]! << 12) | (b[19]! << 4) | (b[20]! >> 4);
        const samples = (b[21]! & 0x0f) * 2 ** 32 + ((b[22]! << 24) >>> 0) + ((b[23]! << 16) | (b[24]! << 8) | b[25]!);
        if (rate === 0) return this.fail('STREAMINFO gives a sample rate of 0');
        this.durationSeconds = samples === 0 ? null : seconds(samples / rate);
        return this.after(b[4]!, at + 42);
      }
      case 'block': {
        if (++this.blocks > MAX_BLOCKS) return this.fail(`more than ${MAX_BLOCKS} metadata blocks`);
        const length = (b[1]! << 16) | (b[2]! << 8) | b[3]!;
        return this.after(b[0]!, at + 4 + length);
      }
      case 'frame':
        // 14 bits of sync code, then a reserved 0 bit.
        if (b[0] !== 0xff || (b[1]! & 0xfe) !== 0xf8) return this.fail('no audio frame after the metadata blocks');
        this.verdict = { valid: true, durationSeconds: this.durationSeconds };
        return this.done();
    }
  }

  /** After the block whose header byte is `header`, ending at `next`: another block, or the frames. */
  private after(header: number, next: number): void {
    const last = (header & 0x80) !== 0;
    this.step = last ? 'frame' : 'block';
    this.want(next, last ? 2 : 4);
  }

  finish(): Verdict {
    if (this.failure !== undefined) return invalid(this.failure);
    return this.verdict ?? invalid('the file ends before its first audio frame');
  }
}
