/**
 * Reading fields of a file at known offsets while it streams past, holding only the bytes asked
 * for: a format's inspector asks for `length` bytes at offset `at`, is called back with them once
 * they have streamed by, and asks for the next; whatever lies between (audio data, cover art,
 * unknown chunks) is skipped by arithmetic, never buffered. So memory is bounded by the largest
 * field asked for, whatever sizes a file declares.
 *
 * A request may start up to `LOOKBACK` bytes before the bytes not yet seen (the last of them are
 * kept): an inspector may look at 4 bytes to learn what comes, then ask for the 10-byte header
 * or the frame that starts there, however the client's chunks fell.
 */

import { invalid, type Verdict } from './inspector.ts';

export const LOOKBACK = 64;

interface Wanted {
  readonly at: number;
  readonly bytes: Uint8Array;
  filled: number;
}

export abstract class FieldReader {
  /** The offset of the next byte to be pushed. */
  protected position = 0;
  private wanted: Wanted | undefined;
  /** The last bytes pushed (at most LOOKBACK), ending at `position`. */
  private tail: Uint8Array = new Uint8Array(0);
  /** Why the file is not what it claims, once an inspector has found out. */
  protected failure: string | undefined;

  /** Asks for `length` bytes at `at` (no earlier than LOOKBACK bytes before those not yet pushed). */
  protected want(at: number, length: number): void {
    this.wanted = { at, bytes: new Uint8Array(length), filled: 0 };
  }

  /** Stops asking: the rest of the file is not looked at. */
  protected done(): void {
    this.wanted = undefined;
  }

  /** The file is not what it claims: nothing more is read, and `push` says why from now on. */
  protected fail(reason: string): void {
    this.failure = reason;
    this.done();
  }

  /** The bytes asked for, once they have all passed; `at` is where they start. */
  protected abstract got(bytes: Uint8Array, at: number): void;

  /** The next bytes of the file, in order; the refusal once the file is known to be invalid. */
  push(chunk: Uint8Array): Extract<Verdict, { valid: false }> | undefined {
    if (this.failure === undefined) this.read(chunk);
    return this.failure === undefined ? undefined : invalid(this.failure);
  }

  private read(chunk: Uint8Array): void {
    const start = this.position;
    const end = start + chunk.byteLength;
    for (let w = this.wanted; w !== undefined; w = this.wanted) {
      const from = w.at + w.filled;
      if (from >= end) break;
      let take: number;
      if (from < start) {
        // Bytes of earlier chunks, from the kept tail.
        const back = start - from;
        if (back > this.tail.length) throw new RangeError(`field reader: offset ${from} is more than ${LOOKBACK} bytes back`);
        const offset = this.tail.length - back;
        take = Math.min(w.bytes.length - w.filled, back);
        w.bytes.set(this.tail.subarray(offset, offset + take), w.filled);
      } else {
        take = Math.min(w.bytes.length - w.filled, end - from);
        w.bytes.set(chunk.subarray(from - start, from - start + take), w.filled);
      }
      w.filled += take;
      if (w.filled < w.bytes.length) continue;
      this.wanted = undefined;
      this.got(w.bytes, w.at);
    }
    this.position = end;
    this.keepTail(chunk);
  }

  /** Bytes pushed so far. */
  get length(): number {
    return this.position;
  }

  private keepTail(chunk: Uint8Array): void {
    if (chunk.byteLength >= LOOKBACK) {
      // A copy: the tail must not hold on to a 64 KiB chunk.
      this.tail = chunk.slice(chunk.byteLength - LOOKBACK);
      return;
    }
    const kept = Math.min(this.tail.length, LOOKBACK - chunk.byteLength);
    const tail = new Uint8Array(kept + chunk.byteLength);
    tail.set(this.tail.subarray(this.tail.length - kept));
    tail.set(chunk, kept);
    this.tail = tail;
  }
}
