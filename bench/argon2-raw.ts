/**
 * The ceiling of logins: how many argon2id verifications per second this machine does at the
 * auth plugin's own cost and concurrency (its defaults), with no HTTP, database or JSON around
 * them. Login throughput is reported as a ratio to this.
 */
import { cpus } from 'node:os';
import { PasswordHasher } from '../plugins/auth/password-hasher.ts';

/** The auth plugin's defaults (plugins/auth/config.ts, index.ts). */
export const SERVER_HASH_CONCURRENCY = Math.max(2, cpus().length);
const COST = { memoryKiB: 19456, passes: 2, parallelism: 1 };

export async function rawVerifiesPerSecond(durationS: number): Promise<number> {
  const hasher = new PasswordHasher(COST, SERVER_HASH_CONCURRENCY);
  const hashed = await hasher.hash('bench horse battery staple');
  const deadline = performance.now() + durationS * 1000;
  let done = 0;
  const worker = async () => {
    while (performance.now() < deadline) {
      await hasher.verify(hashed, 'bench horse battery staple');
      done++;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: SERVER_HASH_CONCURRENCY }, worker));
  return done / ((performance.now() - started) / 1000);
}
