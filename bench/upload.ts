/**
 * The upload figure: one 200 MiB file part sent as multipart/form-data (chunked, no
 * Content-Length, generated as it is sent) to `POST /v1/bench/upload`, whose handler hashes it
 * with SHA-256 as it streams. Throughput is measured here, from the first byte sent to the answer;
 * the peak RSS growth is measured by the server process itself during the request (it samples its
 * own RSS) and comes back in the answer, with the byte count and hash checked against ours.
 */
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';

export interface UploadFigures {
  readonly bytes: number;
  readonly seconds: number;
  /** 10^6 bytes per second. */
  readonly mbPerSecond: number;
  readonly rssGrowthBytes: number;
}

const MiB = 1024 * 1024;
export const UPLOAD_BYTES = 200 * MiB;
const CHUNK = 64 * 1024;
const BOUNDARY = '----empulse-bench-7d1e';

export async function benchUpload(baseUrl: string, size = UPLOAD_BYTES): Promise<UploadFigures> {
  const pattern = randomBytes(MiB);
  const hash = createHash('sha256');
  const started = performance.now();
  const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(`${baseUrl}/v1/bench/upload`, {
      method: 'POST',
      headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}`, 'transfer-encoding': 'chunked' },
    });
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    void (async () => {
      const write = (chunk: Uint8Array | string) =>
        req.write(chunk) ? Promise.resolve() : new Promise<void>((r) => req.once('drain', () => r()));
      await write(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="title"\r\n\r\nbench\r\n`);
      await write(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="audio"; filename="bench.wav"\r\nContent-Type: audio/wav\r\n\r\n`);
      for (let sent = 0; sent < size; ) {
        const at = sent % pattern.length;
        const chunk = pattern.subarray(at, at + Math.min(CHUNK, size - sent));
        hash.update(chunk);
        sent += chunk.byteLength;
        await write(chunk);
      }
      await write(`\r\n--${BOUNDARY}--\r\n`);
      req.end();
    })().catch(reject);
  });
  const seconds = (performance.now() - started) / 1000;
  if (answer.status !== 200) throw new Error(`upload answered ${answer.status}: ${answer.body}`);
  const result = JSON.parse(answer.body) as { bytes: number; sha256: string; rssGrowthBytes: number };
  if (result.bytes !== size || result.sha256 !== hash.digest('hex')) throw new Error(`upload arrived damaged: ${answer.body}`);
  return { bytes: size, seconds, mbPerSecond: size / 1e6 / seconds, rssGrowthBytes: result.rssGrowthBytes };
}
