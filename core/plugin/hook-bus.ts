/**
 * Delivers hooks to subscribers. An event emitted inside a database transaction is held until
 * that transaction commits (and dropped if it rolls back), so listeners never act on data that
 * was not saved. Handlers run after the emitter's code, one failing never affects the others.
 */
import type { Logger } from '../logging/logger.ts';
import type { EmitOptions } from './hooks.ts';

type Handler = (payload: unknown) => void | Promise<void>;

interface Subscriber {
  readonly plugin: string;
  readonly handler: Handler;
}

interface Pending {
  readonly hook: string;
  readonly payload: unknown;
}

export class HookBus {
  readonly #subscribers = new Map<string, Subscriber[]>();
  /** Events waiting for their transaction, keyed by the transaction context object. */
  readonly #pending = new WeakMap<object, Pending[]>();
  readonly #inFlight = new Set<Promise<void>>();
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  subscribe(hook: string, plugin: string, handler: Handler): void {
    const list = this.#subscribers.get(hook) ?? [];
    list.push({ plugin, handler });
    this.#subscribers.set(hook, list);
  }

  emit(hook: string, payload: unknown, options?: EmitOptions): void {
    const em = options?.em;
    const tx = em?.isInTransaction() ? em.getTransactionContext() : undefined;
    if (typeof tx === 'object' && tx !== null) {
      const queue = this.#pending.get(tx) ?? [];
      queue.push({ hook, payload });
      this.#pending.set(tx, queue);
      return;
    }
    this.#deliver(hook, payload);
  }

  /**
   * Called by the database layer when a transaction committed. A released savepoint is not the
   * end of its transaction: its events move to the enclosing transaction and wait for that.
   */
  committed(tx: object, enclosing?: object): void {
    const queue = this.#pending.get(tx);
    if (!queue) return;
    this.#pending.delete(tx);
    if (enclosing) {
      this.#pending.set(enclosing, [...(this.#pending.get(enclosing) ?? []), ...queue]);
      return;
    }
    for (const { hook, payload } of queue) this.#deliver(hook, payload);
  }

  /** Called by the database layer when a transaction rolled back. */
  rolledBack(tx: object): void {
    this.#pending.delete(tx);
  }

  /** Resolves when every delivery started so far has finished (used at shutdown and in tests). */
  async settled(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  #deliver(hook: string, payload: unknown): void {
    for (const { plugin, handler } of this.#subscribers.get(hook) ?? []) {
      const run: Promise<void> = Promise.resolve()
        .then(() => handler(payload))
        .catch((err: unknown) => this.#logger.error({ err, hook, plugin }, 'hook handler failed'))
        .finally(() => this.#inFlight.delete(run));
      this.#inFlight.add(run);
    }
  }
}
