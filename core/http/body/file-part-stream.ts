/**
 * One multipart file part as a web `ReadableStream<Uint8Array>`, over the parser's own stream for
 * it. Backpressure is the point: the parser's stream is paused while ours holds enough, which
 * holds back the parser, which stops reading the request, which fills the client's TCP window. So
 * a 1 GiB file passes through a few tens of KiB of buffers, at the pace of whoever consumes it.
 *
 * A part can also end without its consumer: skipped (the handler moved on without reading it) or
 * failed (the upload broke a rule). Its remaining bytes are then drained, since the parser cannot
 * reach the next part (or notice the end of the body) before this one is through.
 */

/** What this needs of the parser's per-file stream (a Node Readable). */
export interface PartSource {
  on(event: 'data', listener: (chunk: Uint8Array) => void): unknown;
  on(event: 'end', listener: () => void): unknown;
  on(event: 'error', listener: (err: unknown) => void): unknown;
  pause(): unknown;
  resume(): unknown;
}

const READ_AHEAD_BYTES = 64 * 1024;

export class FilePartStream {
  readonly stream: ReadableStream<Uint8Array>;
  /** Ended, cancelled, skipped or failed: no more bytes go to the consumer. */
  #settled = false;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  readonly #source: PartSource;

  constructor(source: PartSource) {
    this.#source = source;
    this.stream = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.#controller = controller;
          source.on('data', (chunk) => {
            if (this.#settled) return; // draining
            controller.enqueue(chunk);
            if ((controller.desiredSize ?? 0) <= 0) source.pause();
          });
          source.on('end', () => {
            if (this.#settled) return;
            this.#settled = true;
            controller.close();
          });
          // A part cut short by the end of the body: the parser reports it for the whole body,
          // and the upload fails with that (which errors this stream too).
          source.on('error', () => {});
          source.pause(); // the first pull starts the flow
        },
        pull: () => {
          source.resume();
        },
        cancel: () => this.#drain(),
      },
      { highWaterMark: READ_AHEAD_BYTES, size: (chunk) => chunk.byteLength },
    );
  }

  /**
   * The handler asked for the next part: a stream nobody reads is skipped (drained), so the parser
   * can go on. It errors rather than looking empty, should the handler read it after all. A
   * stream being read (locked) is left alone: the next part comes once it has been read through.
   */
  skipUnlessRead(): void {
    if (this.#settled || this.stream.locked) return;
    this.#controller.error(new TypeError('this file part was skipped: the next part was asked for before it was read'));
    this.#drain();
  }

  /** The upload failed: the consumer's next read rejects with the route's answer. */
  fail(problem: unknown): void {
    if (this.#settled) return;
    this.#controller.error(problem);
    this.#drain();
  }

  #drain(): void {
    this.#settled = true;
    this.#source.resume();
  }
}
