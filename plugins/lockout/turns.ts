/**
 * Turns for logins waiting on one identifier in this process. While attempts in flight fill an
 * identifier's threshold, the others wait; polling the counter row (a locking transaction per
 * poll) with backoff kept the database busy and served waiters in random order, so with 50
 * clients on one account the unlucky ones waited seconds. Here each waiter holds a ticket, in
 * arrival order: a settled attempt wakes the oldest waiter (a lock wakes them all, to see it),
 * and newcomers queue behind earlier waiters instead of overtaking them. The timer stays as the
 * fallback for attempts that settle in another instance.
 */
interface Waiter {
  readonly ticket: number;
  readonly wake: () => void;
}

export class Turns {
  readonly #queues = new Map<string, Waiter[]>();
  #nextTicket = 0;

  /** A place in line for one login, kept across its waits. */
  ticket(): number {
    return this.#nextTicket++;
  }

  /** True when earlier tickets already wait for this identifier here (a newcomer waits behind). */
  hasEarlier(identifier: string, ticket: number): boolean {
    const queue = this.#queues.get(identifier);
    return queue !== undefined && queue.length > 0 && queue[0]!.ticket < ticket;
  }

  /** Resolves when woken for this identifier, or after `ms` at the latest. */
  wait(identifier: string, ticket: number, ms: number): Promise<void> {
    return new Promise((resolve) => {
      let queue = this.#queues.get(identifier);
      if (!queue) this.#queues.set(identifier, (queue = []));
      const waiter: Waiter = {
        ticket,
        wake: () => {
          clearTimeout(timer);
          const q = this.#queues.get(identifier);
          const at = q?.indexOf(waiter) ?? -1;
          if (at >= 0) q!.splice(at, 1);
          if (q && q.length === 0) this.#queues.delete(identifier);
          resolve();
        },
      };
      const timer = setTimeout(waiter.wake, ms);
      // In ticket order: a waiter back from a timeout keeps its place.
      let at = queue.length;
      while (at > 0 && queue[at - 1]!.ticket > ticket) at--;
      queue.splice(at, 0, waiter);
    });
  }

  /** An attempt settled: its slot is free for the oldest waiter, or, when it locked, everyone looks. */
  release(identifier: string, everyone: boolean): void {
    const queue = this.#queues.get(identifier);
    if (!queue || queue.length === 0) return;
    if (everyone) for (const w of [...queue]) w.wake();
    else queue[0]!.wake();
  }
}
