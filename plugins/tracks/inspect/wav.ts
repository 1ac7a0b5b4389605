/**
 * WAV (RIFF/WAVE, and RF64 / BW64 for files over 4 GiB: EBU Tech 3306, ITU-R BS.2088). Walks the
 * chunks from offset 12 until `data`, reading `ds64` (RF64's real sizes) and `fmt ` (the byte
 * rate) and skipping every other chunk by its declared size. Valid with a `fmt ` chunk before a
 * `data` chunk; the duration is the audio bytes ÷ the byte rate, the audio bytes being what
 * `data` declares or, when the file is shorter than that, what it holds.
 */
import { ascii, view } from '../bytes.ts';
import { FieldReader } from './field-reader.ts';
import { invalid, seconds, type Inspector, type Verdict } from './inspector.ts';

/** More chunks than this before `data` is not a WAV anyone made. */
const MAX_CHUNKS = 1000;
const RF64_SIZE = 0xffffffff;
/** Format tags whose byte rate follows from rate × block align: PCM, IEEE float, extensible. */
const UNCOMPRESSED = new Set([0x0001, 0x0003, 0xfffe]);

export class WavInspector extends FieldReader implements Inspector {
  private rf64 = false;
  private ds64DataSize: number | undefined;
  private byteRate: number | undefined;
  private dataStart: number | undefined;
  private dataSize = 0;
  private chunks = 0;
  private step: 'header' | 'chunk' | 'ds64' | 'fmt' = 'header';
  private next = 0;

  constructor() {
    super();
    this.want(0, 12);
  }

  protected got(bytes: Uint8Array, at: number): void {
    const v = view(bytes);
    switch (this.step) {
      case 'header':
        this.rf64 = ascii(bytes, 0, 'RF64') || ascii(bytes, 0, 'BW64');
        if (!(this.rf64 || ascii(bytes, 0, 'RIFF')) || !ascii(bytes, 8, 'WAVE')) return this.fail('no RIFF/RF64 WAVE header');
        return this.chunkAt(12);
      case 'chunk': {
        const size = v.getUint32(4, true);
        if (++this.chunks > MAX_CHUNKS) return this.fail(`more than ${MAX_CHUNKS} chunks before the audio`);
        this.next = at + 8 + size + (size % 2);
        if (ascii(bytes, 0, 'ds64') && this.rf64) return this.field('ds64', at + 8, size >= 16 ? 16 : 0);
        // WAVEFORMAT is 14 bytes (PCMWAVEFORMAT 16, EXTENSIBLE 40): the fields read end at 14.
        if (ascii(bytes, 0, 'fmt ')) return this.field('fmt', at + 8, size >= 14 ? 14 : 0);
        if (ascii(bytes, 0, 'data')) {
          if (this.byteRate === undefined) return this.fail('the data chunk comes before any fmt chunk');
          this.dataStart = at + 8;
          // RF64 puts the size in ds64. A size of 0 (or RF64's placeholder without a ds64 that
          // gives one) is a recording never finalised: its audio runs to the end, as players read it.
          const declared = this.rf64 && size === RF64_SIZE ? (this.ds64DataSize ?? 0) : size;
          this.dataSize = declared === 0 ? Number.POSITIVE_INFINITY : declared;
          return this.done();
        }
        return this.chunkAt(this.next);
      }
      case 'ds64':
        // riffSize (8 bytes), then dataSize (8 bytes), little-endian.
        this.ds64DataSize = Number(v.getBigUint64(8, true));
        return this.chunkAt(this.next);
      case 'fmt': {
        // formatTag, channels, sampleRate, byteRate, blockAlign.
        const [tag, channels, rate, byteRate, blockAlign] = [v.getUint16(0, true), v.getUint16(2, true), v.getUint32(4, true), v.getUint32(8, true), v.getUint16(12, true)];
        if (channels === 0 || rate === 0 || byteRate === 0 || blockAlign === 0) return this.fail('the fmt chunk gives no channels, rate or block size');
        // Uncompressed audio (PCM, float, extensible) plays exactly rate × blockAlign bytes a second.
        if (UNCOMPRESSED.has(tag) && byteRate !== rate * blockAlign) return this.fail('the fmt chunk\'s byte rate is not its rate × block size');
        this.byteRate = byteRate;
        return this.chunkAt(this.next);
      }
    }
  }


  finish(): Verdict {
    if (this.failure !== undefined) return invalid(this.failure);
    if (this.dataStart === undefined || this.byteRate === undefined) return invalid('no fmt and data chunks');
    const audioBytes = Math.min(this.dataSize, Math.max(0, this.length - this.dataStart));
    return { valid: true, durationSeconds: seconds(audioBytes / this.byteRate) };
  }

  private chunkAt(at: number): void {
    this.step = 'chunk';
    this.want(at, 8);
  }

  private field(step: 'ds64' | 'fmt', at: number, length: number): void {
    if (length === 0) return this.fail(`the ${step} chunk is too short`);
    this.step = step;
    this.want(at, length);
  }

}
