/** The tracks plugin's options; `TRACK_MAX_BYTES` fills `maxBytes` (API.md, "Running it"). */
import * as v from 'valibot';
import type { Env } from '../../core/index.ts';

const GiB = 1024 ** 3;

/** A whole number of bytes, as an option (number) or from the environment (digits). */
const ByteCount = v.pipe(
  v.union([v.number(), v.pipe(v.string(), v.trim(), v.regex(/^\d+$/, 'must be a whole number of bytes (TRACK_MAX_BYTES)'), v.transform(Number))]),
  v.number(),
  v.safeInteger('must be a whole number of bytes (TRACK_MAX_BYTES)'),
  v.minValue(1024, 'must be at least 1024 bytes (TRACK_MAX_BYTES)'),
);

export const tracksConfigSchema = v.strictObject({
  /** The largest audio file accepted; one byte more is 413 while it streams. */
  maxBytes: v.optional(ByteCount, GiB),
  /** How long a download URL from `GET /v1/tracks/:id/audio` works (API.md: at most 15 minutes). */
  downloadUrlTtlSeconds: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(900)), 300),
  /**
   * The time budget of one upload, from its first byte to the answer: 1 GiB at 2.4 Mbit/s. A
   * stalled client is cut earlier by the idle timeout (30 s without a byte).
   */
  uploadTimeoutMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1000)), 3_600_000),
});

export type TracksConfig = v.InferOutput<typeof tracksConfigSchema>;

export function tracksConfigFromEnv(env: Env): Partial<v.InferInput<typeof tracksConfigSchema>> {
  return { maxBytes: env.TRACK_MAX_BYTES || undefined };
}
