/**
 * The plugin's options: the key ring (`W9_ENCRYPTION_KEYS`) and the blind index's key
 * (`W9_INDEX_KEY`). Production refuses to boot without both; in development the host generates
 * them once and keeps them in DATA_DIR; a test kernel without them gets keys of its own that die
 * with it. Both are checked here, synchronously, so a malformed ring is a boot error that names
 * the variable and never shows a key.
 */
import * as v from 'valibot';
import type { ConfigProblem, Env, RuntimeMode } from '../../core/index.ts';
import { parseIndexKey } from './blind-index.ts';
import { KeyRingError, parseKeyRing } from './key-ring.ts';

export const w9ConfigSchema = v.strictObject({
  /** `keyId:base64(32 bytes)`, comma-separated: the first encrypts, all decrypt. */
  encryptionKeys: v.optional(v.string()),
  /** base64(32 bytes): the key of the TIN's blind index (never rotated with the ring). */
  indexKey: v.optional(v.string()),
  /** Forms `rotate-keys` re-encrypts per transaction (each batch holds its rows' locks). */
  rotationBatchSize: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(5000)), 200),
});

export type W9Config = v.InferOutput<typeof w9ConfigSchema>;

export function w9ConfigFromEnv(env: Env): Partial<v.InferInput<typeof w9ConfigSchema>> {
  return { encryptionKeys: env.W9_ENCRYPTION_KEYS || undefined, indexKey: env.W9_INDEX_KEY || undefined };
}

export function validateW9Config(config: W9Config, mode: RuntimeMode): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const keys: readonly [string | undefined, string, (text: string) => unknown, string][] = [
    [config.encryptionKeys, 'W9_ENCRYPTION_KEYS', (text) => parseKeyRing(text), 'keyId:base64 of 32 random bytes, e.g. k1:$(openssl rand -base64 32)'],
    [config.indexKey, 'W9_INDEX_KEY', (text) => parseIndexKey(text), 'base64 of 32 random bytes, e.g. $(openssl rand -base64 32)'],
  ];
  for (const [value, name, parse, example] of keys) {
    if (value === undefined) {
      if (mode === 'production') problems.push({ path: name, message: `the w9-encryption plugin encrypts tax forms: set ${name} (${example})` });
      continue;
    }
    try {
      parse(value);
    } catch (err) {
      if (!(err instanceof KeyRingError)) throw err;
      problems.push({ path: name, message: err.message });
    }
  }
  return problems;
}
