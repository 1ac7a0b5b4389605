/**
 * Sniffing and inspection as the file streams in. `sniffAudio` reads just enough of the file part
 * to name its format (12 bytes; up to one MPEG frame and a header for MP3), so a file that is not
 * audio is refused before a byte reaches storage. It then hands back one stream of the whole file,
 * those first bytes included, that reads on only as its consumer pulls, and shows every chunk to
 * the format's inspector (inspect/): a file that turns out not to be what its first bytes claim
 * (a forged ID3 tag, a WAV without a `data` chunk) errors the stream with 415, so the storage put
 * it feeds keeps nothing. Once the stream has ended, `durationSeconds()` is what the file says.
 */
import { coreProblems, type HttpProblem } from '../../core/index.ts';
import { concat } from './bytes.ts';
import type { TrackFormat } from './contract.ts';
import { inspectorFor } from './inspect/index.ts';
import { sniff, type Sniffed } from './sniff.ts';

export interface SniffedAudio {
  readonly format: TrackFormat;
  /** The whole file from its first byte; errors with 415 when the file is not what it claims. */
  readonly stream: ReadableStream<Uint8Array>;
  /** The duration the file states, once `stream` has ended (null when it states none). */
  readonly durationSeconds: () => number | null;
}

export const notAudio = (why?: string): HttpProblem =>
  coreProblems.unsupported_media_type(
    `The audio part is not a WAV, AIFF, FLAC or MP3 file${why ? ` (${why})` : ''}; it is judged from its bytes, not from its declared type or file name.`,
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
  const format = verdict.kind === 'format' ? verdict.format : 'mp3';
  const inspector = inspectorFor(format);
  let duration: number | null = null;
  let first: Uint8Array | undefined = head.length > 0 ? head : undefined;
  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let chunk = first;
        first = undefined;
        if (chunk === undefined) {
          const next = await reader.read();
          if (next.done) {
            const end = inspector.finish();
            if (!end.valid) return fail(controller, reader, end.reason);
            duration = end.durationSeconds;
            return controller.close();
          }
          chunk = next.value;
        }
        const refused = inspector.push(chunk);
        if (refused) return fail(controller, reader, refused.reason);
        controller.enqueue(chunk);
      },
      cancel: (reason) => reader.cancel(reason),
    },
    // Read only when the consumer asks: backpressure reaches the client.
    { highWaterMark: 0 },
  );
  return { format, stream, durationSeconds: () => duration };
}

function fail(controller: ReadableStreamDefaultController<Uint8Array>, reader: ReadableStreamDefaultReader<Uint8Array>, reason: string): void {
  const problem = notAudio(reason);
  controller.error(problem);
  void reader.cancel(problem).catch(() => {});
}
