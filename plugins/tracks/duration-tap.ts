/**
 * The duration of a track, read by music-metadata alongside the upload rather than before it:
 * `tapDuration` returns a stream that passes the file through unchanged and, in lock step, feeds
 * the same chunks to the parser. Lock step, not `ReadableStream.tee()`: tee buffers without bound
 * for the slower branch, while here a chunk moves on only once the parser has asked for it, so
 * memory stays flat whichever side is slower. Once the parser has its answer (WAV, AIFF and FLAC
 * say their length in a header; an MP3 without a Xing/VBRI header is counted frame by frame) it
 * is detached and the rest of the file passes alone. RF64, which music-metadata does not read,
 * says its length in a ds64 chunk of its first bytes (rf64.ts): no parser is fed at all.
 *
 * The duration is a courtesy: a file the parser cannot read, or reads slowly, still uploads, with
 * `durationSeconds: null`. Sniffing (sniff-stream.ts) decides what is accepted.
 */
import { parseWebStream, type IMetadataEvent } from 'music-metadata';
import type { Logger } from '../../core/index.ts';
import type { TrackFormat } from './contract.ts';
import { rf64DurationSeconds } from './rf64.ts';
import { CONTENT_TYPES } from './sniff.ts';

export interface DurationTap {
  /** The file, unchanged; read it to the end (or cancel it). */
  readonly stream: ReadableStream<Uint8Array>;
  /** Seconds (to the millisecond) or null; never rejects. Settles soon after `stream` ends. */
  readonly seconds: () => Promise<number | null>;
}

/** Seconds to the millisecond, or null for what is not a duration. */
const seconds = (value: number | undefined): number | null =>
  value !== undefined && Number.isFinite(value) && value >= 0 ? Math.round(value * 1000) / 1000 : null;

/** How long to wait, after the last byte, for the parser to finish. */
const SETTLE_MS = 5_000;

export function tapDuration(source: ReadableStream<Uint8Array>, format: TrackFormat, head: Uint8Array, logger: Logger): DurationTap {
  // RF64 says its length in its first bytes, in a chunk music-metadata does not read.
  const rf64 = format === 'wav' ? rf64DurationSeconds(head) : undefined;
  if (rf64 !== undefined) return { stream: source, seconds: () => Promise.resolve(rf64) };
  const feed = new ParserFeed();
  // WAV, AIFF and FLAC state their length in a header near the start, but music-metadata goes on
  // reading to the end (it skips WAV's audio by reading it). The length is taken as soon as the
  // parser states it, and the parser is then given the end of its input: it stops, and the rest
  // of the upload passes without it. MP3's frame count is only known at the end.
  let stated: number | undefined;
  const observer = ({ tag }: IMetadataEvent): void => {
    if (format === 'mp3' || tag.type !== 'format' || tag.id !== 'duration' || typeof tag.value !== 'number') return;
    stated = tag.value;
    feed.end();
  };
  const parsed = parseWebStream(
    feed.stream,
    { mimeType: CONTENT_TYPES[format] },
    // Frame counting only where no header says the length; covers are never decoded.
    { duration: format === 'mp3', skipCovers: true, skipPostHeaders: true, observer },
  ).then(
    (metadata) => seconds(stated ?? metadata.format.duration),
    (err: unknown) => {
      if (stated !== undefined) return seconds(stated); // cut short on purpose, after the answer
      logger.debug({ err, format }, 'tracks: the duration could not be read');
      return null;
    },
  );
  void parsed.finally(() => feed.detach());

  const reader = source.getReader();
  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let next: ReadableStreamReadResult<Uint8Array>;
        try {
          next = await reader.read();
        } catch (err) {
          feed.fail(err);
          throw err;
        }
        if (next.done) {
          feed.end();
          controller.close();
          return;
        }
        await feed.push(next.value);
        controller.enqueue(next.value);
      },
      cancel(reason) {
        feed.fail(reason);
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );

  return {
    stream,
    seconds: () => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<null>((resolve) => {
        timer = setTimeout(() => {
          logger.warn({ format }, 'tracks: reading the duration took too long; stored without it');
          feed.detach();
          resolve(null);
        }, SETTLE_MS);
      });
      return Promise.race([parsed, late]).finally(() => clearTimeout(timer));
    },
  };
}

/** The parser's side of the lock step: a chunk is handed over only when the parser asks for one. */
class ParserFeed {
  private controller!: ReadableStreamDefaultController<Uint8Array>;
  private asked = false;
  private wake: (() => void) | undefined;
  private detached = false;

  readonly stream = new ReadableStream<Uint8Array>(
    {
      start: (controller) => void (this.controller = controller),
      pull: () => {
        this.asked = true;
        this.release();
      },
      cancel: () => this.detach(),
    },
    { highWaterMark: 0 },
  );

  /** Resolves once the parser has taken `chunk`, or at once when it no longer reads. */
  async push(chunk: Uint8Array): Promise<void> {
    while (!this.asked && !this.detached) await new Promise<void>((resolve) => (this.wake = resolve));
    if (this.detached) return;
    this.asked = false;
    this.controller.enqueue(chunk);
  }

  end(): void {
    if (this.detached) return;
    this.detached = true;
    this.controller.close();
    this.release();
  }

  fail(reason: unknown): void {
    if (this.detached) return;
    this.detached = true;
    this.controller.error(reason);
    this.release();
  }

  /** The parser is done (or gave up): stop feeding it. */
  detach(): void {
    this.detached = true;
    this.release();
  }

  private release(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
