/**
 * FLAC. The file must open with `fLaC` and a STREAMINFO block (type 0, 34 bytes) that gives the
 * sample rate and the total samples; the duration is their ratio, or null where the encoder left
 * the total at 0 ("unknown", which FLAC allows). Nothing after STREAMINFO is read: tags and
 * pictures stream past untouched.
 */
import { ascii } from '../bytes.ts';
import { FieldReader } from './field-reader.ts';
import { invalid, seconds, type Inspector, type Verdict } from './inspector.ts';

export class FlacInspector extends FieldReader implements Inspector {
  private verdict: Verdict | undefined;

  constructor() {
    super();
    // "fLaC", the block header (4 bytes), STREAMINFO (34 bytes).
    this.want(0, 42);
  }

  protected got(b: Uint8Array): void {
    const length = (b[5]! << 16) | (b[6]! << 8) | b[7]!;
    if (!ascii(b, 0, 'fLaC') || (b[4]! & 0x7f) !== 0 || length !== 34) {
      this.verdict = invalid('no STREAMINFO block after fLaC');
      return;
    }
    const rate = (b[18]! << 12) | (b[19]! << 4) | (b[20]! >> 4);
    const samples = (b[21]! & 0x0f) * 2 ** 32 + ((b[22]! << 24) >>> 0) + ((b[23]! << 16) | (b[24]! << 8) | b[25]!);
    this.verdict = rate === 0 ? invalid('STREAMINFO gives a sample rate of 0') : { valid: true, durationSeconds: samples === 0 ? null : seconds(samples / rate) };
  }

  override push(chunk: Uint8Array): ReturnType<Inspector['push']> {
    if (this.verdict === undefined) super.push(chunk);
    return this.verdict?.valid === false ? this.verdict : undefined;
  }

  finish(): Verdict {
    return this.verdict ?? invalid('the file ends before its STREAMINFO block');
  }
}
