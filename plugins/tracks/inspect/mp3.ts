/**
 * MP3: any ID3v2 tags (up to four, of any size: skipped by their declared size, never read), any
 * zero padding after them (up to 64 KiB), then MPEG audio frames, each starting where the last
 * one's length says. Valid with at least two consecutive frames; frames are counted until the
 * first byte that does not start another one of the same kind (an ID3v1 or APE tag at the end).
 * At most 128 KiB may follow the frames. The duration is the audio frames counted × samples per
 * frame ÷ the sample rate (a Xing/Info or VBRI header frame is silent and not counted; its own
 * frame count is not trusted).
 */
import { ascii } from '../bytes.ts';
import { id3TagBytes, mpegFrame, type MpegFrame } from '../sniff.ts';
import { FieldReader } from './field-reader.ts';
import { invalid, seconds, type Inspector, type Verdict } from './inspector.ts';

const MAX_TAGS = 4;
const MAX_PADDING = 64 * 1024;
/** What may follow the last frame (ID3v1, APE, Lyrics tags): more is not the end of an MP3. */
const MAX_TRAILER = 128 * 1024;
/** Enough of the first frame for a Xing/Info header (after up to 32 bytes of side info) or VBRI. */
const FIRST_FRAME_BYTES = 4 + 36 + 18;

export class Mp3Inspector extends FieldReader implements Inspector {
  private tags = 0;
  private padding = 0;
  private first: MpegFrame | undefined;
  private frames = 0;
  private samples = 0;
  /** The first frame is a Xing/Info or VBRI header: silent, not audio. */
  private headerFrame = false;
  /** Where the frames stopped, when something else followed them. */
  private stoppedAt: number | undefined;
  private step: 'probe' | 'tag' | 'first' | 'frame' = 'probe';

  constructor() {
    super();
    this.want(0, 4);
  }

  protected got(bytes: Uint8Array, at: number): void {
    switch (this.step) {
      case 'probe':
        return this.probe(bytes, at);
      case 'tag': {
        const size = id3TagBytes(bytes);
        if (size === undefined) return this.fail('a malformed ID3v2 tag');
        return this.probeAt(at + size);
      }
      case 'first': {
        const frame = mpegFrame(bytes, 0)!;
        this.headerFrame = hasInfoHeader(bytes, frame);
        return this.count(frame, at);
      }
      case 'frame': {
        const frame = mpegFrame(bytes, 0);
        // Not another frame of this stream: the audio has ended (a trailing tag, or junk).
        if (frame === undefined || frame.kind !== this.first!.kind) {
          if (this.frames < 2) return this.fail('the first MPEG frame is not followed by another');
          this.stoppedAt = at;
          return this.done();
        }
        return this.count(frame, at);
      }
    }
  }

  /** Before the first frame: a tag, padding, or the first frame. */
  private probe(bytes: Uint8Array, at: number): void {
    if (ascii(bytes, 0, 'ID3')) {
      if (++this.tags > MAX_TAGS) return this.fail(`more than ${MAX_TAGS} ID3v2 tags`);
      this.step = 'tag';
      return this.want(at, 10);
    }
    let zeros = 0;
    while (zeros < bytes.length && bytes[zeros] === 0) zeros++;
    if (zeros > 0) {
      this.padding += zeros;
      if (this.padding > MAX_PADDING) return this.fail(`more than ${MAX_PADDING} bytes of padding before the audio`);
      return this.probeAt(at + zeros);
    }
    const frame = mpegFrame(bytes, 0);
    if (frame === undefined) return this.fail('no MPEG audio frame where the audio should start');
    this.first = frame;
    this.step = 'first';
    this.want(at, Math.min(frame.bytes, FIRST_FRAME_BYTES));
  }

  private count(frame: MpegFrame, at: number): void {
    this.frames++;
    this.samples += frame.samples;
    this.step = 'frame';
    this.want(at + frame.bytes, 4);
  }

  private probeAt(at: number): void {
    this.step = 'probe';
    this.want(at, 4);
  }


  finish(): Verdict {
    if (this.failure !== undefined) return invalid(this.failure);
    // The last frame may be cut short by the end of the file: it is counted, as players play it.
    if (this.frames < 2) return invalid(this.first ? 'only one MPEG audio frame' : 'no MPEG audio frames');
    if (this.stoppedAt !== undefined && this.length - this.stoppedAt > MAX_TRAILER) {
      return invalid(`more than ${MAX_TRAILER} bytes that are not MPEG frames after the audio`);
    }
    const first = this.first!;
    // Every frame was counted: a header's own count (a VBR file's) is not needed, nor trusted.
    const samples = this.headerFrame ? this.samples - first.samples : this.samples;
    return { valid: true, durationSeconds: seconds(samples / first.sampleRate) };
  }

}

/** Whether the first frame is a Xing/Info header (after the side information) or a VBRI header (at 36). */
function hasInfoHeader(bytes: Uint8Array, frame: MpegFrame): boolean {
  const xing = 4 + (frame.mpeg1 ? (frame.mono ? 17 : 32) : frame.mono ? 9 : 17);
  return ascii(bytes, xing, 'Xing') || ascii(bytes, xing, 'Info') || ascii(bytes, 36, 'VBRI');
}
