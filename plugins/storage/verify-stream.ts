/**
 * The stream every put goes through: it counts bytes and hashes them (SHA-256) as they pass,
 * errors at the first byte over the limit, and at the end errors instead of finishing when the
 * digest differs from the one announced. Because the check happens before the stream ends, a
 * driver never commits a wrong or oversized object: it sees a stream error and cleans up.
 */
import { createHash } from 'node:crypto';
import { storageProblems } from './problems.ts';

export interface VerifiedStream {
  readonly stream: ReadableStream<Uint8Array>;
  /** Size and digest, once the stream has ended. */
  readonly result: () => { readonly sizeBytes: number; readonly sha256: string };
}

export function verifyStream(body: ReadableStream<Uint8Array>, maxBytes: number, expectedSha256: string | undefined): VerifiedStream {
  const hash = createHash('sha256');
  let size = 0;
  let digest: string | undefined;
  const check = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      size += chunk.byteLength;
      if (size > maxBytes) {
        controller.error(storageProblems.payload_too_large(`The object may be at most ${maxBytes} bytes.`));
        return;
      }
      hash.update(chunk);
      controller.enqueue(chunk);
    },
    flush(controller) {
      digest = hash.digest('hex');
      if (expectedSha256 !== undefined && digest !== expectedSha256.toLowerCase()) {
        controller.error(storageProblems.checksum_mismatch('The SHA-256 of the bytes received differs from the one announced.'));
      }
    },
  });
  return {
    stream: body.pipeThrough(check),
    result: () => {
      if (digest === undefined) throw new Error('verifyStream: the stream has not ended');
      return { sizeBytes: size, sha256: digest };
    },
  };
}
