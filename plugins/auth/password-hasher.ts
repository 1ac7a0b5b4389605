/**
 * argon2id hashing off the event loop (@node-rs/argon2 runs on worker threads), with a cap on
 * concurrent hashes: a login storm queues instead of starving every other request.
 */
import { hash, verify } from '@node-rs/argon2';
import pLimit from 'p-limit';
import { randomToken } from './secrets.ts';

/** `Algorithm.Argon2id`; the numeric value, since the enum is an ambient const enum. */
const ARGON2ID = 2;

export interface Argon2Cost {
  readonly memoryKiB: number;
  readonly passes: number;
  readonly parallelism: number;
}

export class PasswordHasher {
  readonly #limit: ReturnType<typeof pLimit>;
  readonly #cost: Argon2Cost;
  #dummy: Promise<string> | undefined;

  constructor(cost: Argon2Cost, concurrency: number) {
    this.#cost = cost;
    this.#limit = pLimit(concurrency);
  }

  hash(password: string): Promise<string> {
    return this.#limit(() =>
      hash(password, {
        algorithm: ARGON2ID,
        memoryCost: this.#cost.memoryKiB,
        timeCost: this.#cost.passes,
        parallelism: this.#cost.parallelism,
      }),
    );
  }

  verify(hashed: string, password: string): Promise<boolean> {
    return this.#limit(() => verify(hashed, password).catch(() => false));
  }

  /**
   * Verifies against a hash of a random password: unknown emails take as long as wrong
   * passwords, so timing does not reveal which accounts exist.
   */
  async verifyDummy(password: string): Promise<false> {
    await this.verify(await (this.#dummy ??= this.hash(randomToken())), password);
    return false;
  }

  /** Hashes now waiting for a slot (for metrics and the bench). */
  get queued(): number {
    return this.#limit.pendingCount;
  }
}
