/**
 * Lets @upstash/ratelimit run on a Redis server over TCP. It only needs `evalsha` and `eval`;
 * its Lua scripts start with `#!lua flags=allow-key-locking`, an Upstash-only flag that Redis 7.0
 * rejects, so the adapter strips that line and maps the original script hashes to the stripped
 * scripts' hashes (NOSCRIPT makes the library fall back to `eval` once per script).
 */
import { createHash } from 'node:crypto';
import type { Redis as IORedis } from 'ioredis';
import type { Redis as UpstashRedis } from '@upstash/redis';

const FLAG_LINE = /^#!lua[^\n]*\n/;

export function upstashCompatible(client: IORedis): UpstashRedis {
  const shas = new Map<string, string>();
  const sha1 = (text: string) => createHash('sha1').update(text).digest('hex');
  const adapter = {
    async evalsha(sha: string, keys: string[], args: unknown[]): Promise<unknown> {
      const mapped = shas.get(sha);
      if (!mapped) throw new Error('NOSCRIPT No matching script. Please use EVAL.');
      return client.evalsha(mapped, keys.length, ...keys, ...args.map(String));
    },
    async eval(script: string, keys: string[], args: unknown[]): Promise<unknown> {
      const stripped = script.replace(FLAG_LINE, '');
      shas.set(sha1(script), sha1(stripped));
      return client.eval(stripped, keys.length, ...keys, ...args.map(String));
    },
  };
  return adapter as unknown as UpstashRedis;
}
