/**
 * Reads an upload's request body as a web `ReadableStream<Uint8Array>`, pulling from the socket
 * only as fast as the consumer reads (so a slow store slows the client down instead of filling our
 * memory), and enforces the rules that need the bytes as they come:
 *
 * - the byte limit counts bytes actually read, so a chunked body (no Content-Length) that grows
 *   past it fails at that moment, and the consumer never sees a byte beyond the limit;
 * - the idle timeout runs only while we wait for the client: a consumer that is slow to read is
 *   not the client's fault (the route's overall time budget bounds that);
 * - a client that goes away mid-body, or the route's time budget running out, errors the stream, so
 *   a consumer writing to storage learns it must clean up.
 *
 * Every failure errors the stream with the HttpProblem the route answers with, rejects `failed`
 * and aborts the request's signal (through `onFailure`). The request is paused, never destroyed:
 * destroying an unfinished Node request destroys its socket, and the client would get no answer.
 */
import { coreProblems, HttpProblem } from '../problem.ts';

/** What the reader needs of the request: Node's IncomingMessage has it, and so does Deno's node:http. */
export interface IncomingBody {
  on(event: 'data', listener: (chunk: Uint8Array) => void): unknown;
  on(event: 'end' | 'close', listener: () => void): unknown;
  on(event: 'error', listener: (err: unknown) => void): unknown;
  removeListener(event: string, listener: (...args: never[]) => void): unknown;
  pause(): unknown;
  resume(): unknown;
}

export interface BodyReaderOptions {
  /** The most bytes the body may have. */
  readonly maxBytes: number;
  /** The 413 answer's detail when the body grows past `maxBytes`. */
  readonly tooLarge: string;
  readonly idleTimeoutMs: number;
  /** The request's signal: its abort (the time budget) fails the body. */
  readonly signal: AbortSignal;
  /** Called once with the first failure (the route aborts the request's signal with it). */
  readonly onFailure: (problem: HttpProblem) => void;
}

/** How much the stream buffers ahead of its consumer before the socket is paused. */
const READ_AHEAD_BYTES = 64 * 1024;

export class BodyReader {
  readonly stream: ReadableStream<Uint8Array>;
  /** Rejects with the first failure; never resolves. */
  readonly failed: Promise<never>;
  #bytes = 0;
  #ended = false;
  #released = false;
  #failure: HttpProblem | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  #reject!: (problem: HttpProblem) => void;
  readonly #req: IncomingBody;
  readonly #options: BodyReaderOptions;
  readonly #onData = (chunk: Uint8Array): void => this.#data(chunk);
  readonly #onEnd = (): void => this.#end();
  readonly #onGone = (): void => {
    if (!this.#ended) this.fail(coreProblems.malformed_body('The client closed the connection before the body was complete.'));
  };
  readonly #onAbort = (): void => {
    const reason: unknown = this.#options.signal.reason;
    this.fail(reason instanceof HttpProblem ? reason : coreProblems.request_timeout('The request was aborted.', { headers: { Connection: 'close' } }));
  };

  constructor(req: IncomingBody, options: BodyReaderOptions) {
    this.#req = req;
    this.#options = options;
    this.failed = new Promise<never>((_, reject) => (this.#reject = reject));
    this.failed.catch(() => {}); // observed by whoever races it; never an unhandled rejection
    this.stream = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.#controller = controller;
          req.on('data', this.#onData);
          req.on('end', this.#onEnd);
          req.on('error', this.#onGone);
          req.on('close', this.#onGone);
          req.pause(); // 'data' listeners start the flow; the first pull resumes it
          if (options.signal.aborted) this.#onAbort();
          else options.signal.addEventListener('abort', this.#onAbort, { once: true });
        },
        pull: () => this.#waitForBytes(),
        // The consumer gave up on the body: stop reading; the route decides what to answer.
        cancel: () => this.#hold(),
      },
      { highWaterMark: READ_AHEAD_BYTES, size: (chunk) => chunk.byteLength },
    );
  }

  /** The first failure, once there is one. */
  get failure(): HttpProblem | undefined {
    return this.#failure;
  }

  /** Fails the body (first failure wins): stops reading, errors the stream, rejects `failed`. */
  fail(problem: HttpProblem): void {
    if (this.#failure !== undefined || this.#released) return;
    this.#failure = problem;
    this.#hold();
    this.#controller.error(problem);
    this.#options.onFailure(problem);
    this.#reject(problem);
  }

  /**
   * The route is over: stop reading and let go of the request. What was not read stays unread
   * (the route answers with `Connection: close` then), and a consumer still holding the stream
   * gets an error instead of waiting forever.
   */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#hold();
    this.#req.removeListener('data', this.#onData);
    this.#req.removeListener('end', this.#onEnd);
    this.#req.removeListener('error', this.#onGone);
    this.#req.removeListener('close', this.#onGone);
    this.#options.signal.removeEventListener('abort', this.#onAbort);
    if (!this.#ended && this.#failure === undefined) this.#controller.error(new TypeError('the route finished before reading the whole body'));
  }

  #data(chunk: Uint8Array): void {
    if (this.#failure !== undefined || this.#released) return;
    this.#bytes += chunk.byteLength;
    if (this.#bytes > this.#options.maxBytes) {
      this.fail(coreProblems.payload_too_large(this.#options.tooLarge, { headers: { Connection: 'close' } }));
      return;
    }
    this.#controller.enqueue(chunk);
    if ((this.#controller.desiredSize ?? 0) <= 0) this.#hold();
    else this.#armIdleTimer();
  }

  #end(): void {
    if (this.#failure !== undefined || this.#released) return;
    this.#ended = true;
    this.#clearIdleTimer();
    this.#controller.close();
  }

  /** The consumer wants more: read from the socket, and start counting the client's silence. */
  #waitForBytes(): void {
    if (this.#failure !== undefined || this.#released || this.#ended) return;
    this.#req.resume();
    this.#armIdleTimer();
  }

  /** Enough is buffered (or reading is over): pause the socket; silence is now ours, not the client's. */
  #hold(): void {
    this.#clearIdleTimer();
    this.#req.pause();
  }

  #armIdleTimer(): void {
    this.#clearIdleTimer();
    const ms = this.#options.idleTimeoutMs;
    this.#timer = setTimeout(() => {
      this.fail(coreProblems.request_timeout(`No bytes of the body arrived for ${ms} ms.`, { headers: { Connection: 'close' } }));
    }, ms);
  }

  #clearIdleTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
