/**
 * Sniffing as the file streams in: reads just enough of the file part to name its format (a few
 * bytes; up to one MPEG frame and a header for MP3), then hands back one stream of the whole file,
 * those first bytes included, that reads on only as its consumer pulls. Nothing is stored before
 * the format is known, so a file that is not audio is refused before a byte reaches storage.
 *
 * An MP3 opening with an ID3v2 tag is the exception: the tag can be megabytes of cover art, so it
 * is not held back. The format is taken as MP3 at the tag's header and the stream goes on; where
 * the tag ends, the MPEG frames must begin (after any zero padding), or the stream errors with 415
 * and the storage put it feeds removes what it wrote.
 */
import { coreProblems, type HttpProblem } from '../../core/index.ts';
import type { TrackFormat } from './contract.ts';
import { sniff, sniffMpegFrames, type Sniffed } from './sniff.ts';

export interface SniffedAudio {
  readonly format: TrackFormat;
  /** The bytes read to decide (at least the first 12; usually the client's whole first chunk). */
  readonly head: Uint8Array;
  /** The whole file from its first byte; errors with 415 if an MP3's frames do not follow its ID3 tag. */
  readonly stream: ReadableStream<Uint8Array>;
}

/** Zero bytes some taggers leave between an ID3 tag and the first frame, beyond the tag's own padding. */
const MAX_PADDING_AFTER_TAG = 64 * 1024;

export const notAudio = (): HttpProblem =>
  coreProblems.unsupported_media_type(
    'The audio part is not a WAV, AIFF, FLAC or MP3 file (judged from its first bytes; the declared type and the file name are not used).',
    { headers: { Connection: 'close' } },
  );

/** Reads the start of `source` and names its format; throws 415 (and cancels `source`) when it is none of ours. */
export async function sniffAudio(source: ReadableStream<Uint8Array>): Promise<SniffedAudio> {
  const reader = source.getReader();
  let head: Uint8Array = new Uint8Array(0);
  let ended = false;
  let verdict: Sniffed = sniff(head, ended);
  while (verdict.kind === 'more') {
    const { done, value } = await reader.read();
    if (done) ended = true;
    else head = concat(head, value);
    verdict = sniff(head, ended);
  }
  if (verdict.kind === 'unknown') {
    await reader.cancel().catch(() => {});
    throw notAudio();
  }
  const afterTag = verdict.kind === 'id3' ? new FramesAfterTag(verdict.tagBytes) : undefined;
  const format = verdict.kind === 'format' ? verdict.format : 'mp3';
  let offset = 0;
  let first: Uint8Array | undefined = head.length > 0 ? head : undefined;
  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let chunk = first;
        first = undefined;
        if (chunk === undefined) {
          const next = await reader.read();
          if (next.done) {
            if (afterTag?.finish() === 'unknown') return fail(controller, reader);
            return controller.close();
          }
          chunk = next.value;
        }
        if (afterTag?.check(chunk, offset) === 'unknown') return fail(controller, reader);
        offset += chunk.byteLength;
        controller.enqueue(chunk);
      },
      cancel: (reason) => reader.cancel(reason),
    },
    // Read only when the consumer asks: backpressure reaches the client.
    { highWaterMark: 0 },
  );
  return { format, head, stream };
}

function fail(controller: ReadableStreamDefaultController<Uint8Array>, reader: ReadableStreamDefaultReader<Uint8Array>): void {
  const problem = notAudio();
  controller.error(problem);
  void reader.cancel(problem).catch(() => {});
}

/** Watches the bytes where an ID3 tag ends for the first MPEG frames. */
class FramesAfterTag {
  private window: Uint8Array = new Uint8Array(0);
  private verdict: 'pending' | 'mp3' | 'unknown' = 'pending';
  private readonly tagBytes: number;
  constructor(tagBytes: number) {
    this.tagBytes = tagBytes;
  }

  /** Looks at `chunk`, which starts at `offset` of the file. */
  check(chunk: Uint8Array, offset: number): 'pending' | 'mp3' | 'unknown' {
    if (this.verdict !== 'pending') return this.verdict;
    const end = offset + chunk.byteLength;
    if (end <= this.tagBytes) return 'pending';
    this.window = concat(this.window, chunk.subarray(Math.max(0, this.tagBytes - offset)));
    return this.decide(false);
  }

  /** The file ended: decide with what there is. */
  finish(): 'mp3' | 'unknown' {
    if (this.verdict === 'pending') this.decide(true);
    return this.verdict === 'mp3' ? 'mp3' : 'unknown';
  }

  private decide(ended: boolean): 'pending' | 'mp3' | 'unknown' {
    let start = 0;
    while (start < this.window.length && this.window[start] === 0) start++;
    if (start > MAX_PADDING_AFTER_TAG) return (this.verdict = 'unknown');
    if (start === this.window.length) return ended ? (this.verdict = 'unknown') : 'pending';
    const verdict = sniffMpegFrames(this.window, start, ended);
    if (verdict.kind === 'more') return 'pending';
    this.verdict = verdict.kind === 'format' ? 'mp3' : 'unknown';
    // Only the start of the window was needed.
    this.window = new Uint8Array(0);
    return this.verdict;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
