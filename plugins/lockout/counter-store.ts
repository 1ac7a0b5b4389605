/**
 * Failed-login counters, one row per normalised email (existing account or not, so locking
 * reveals nothing). Every change happens under the row's lock in one short transaction, so counts
 * are exact under concurrency and across instances sharing the database.
 *
 * A login first reserves a slot (`pending`); while failures plus attempts still being checked
 * fill the threshold, further attempts wait for those outcomes. 50 parallel wrong passwords
 * therefore check exactly `threshold` passwords, lock once, and the waiting 45 see the lock; 50
 * parallel right ones all get in, in turns. A reservation left by a crashed process expires with
 * its window.
 */
import type { SqlEntityManager } from '@mikro-orm/sql';
import type { Database } from '../../core/index.ts';
import type { AdminLock, LockoutStatus } from './contract.ts';
import { lockDurationSeconds, type LockoutConfig } from './config.ts';

interface CounterRow {
  failures: number;
  pending: number;
  window_started_at: string | Date;
  locked_until: string | Date | null;
  lockouts_in_a_row: number;
  admin_locked_at: string | Date | null;
  admin_locked_until: string | Date | null;
}

/**
 * What an indefinite administrator's lock tells clients in `Retry-After`: it has no end, so this
 * is only when asking again makes sense (API.md asks for the header on every 423).
 */
export const INDEFINITE_LOCK_RETRY_SECONDS = 3600;

export type Reservation =
  | { readonly ok: true }
  | { readonly ok: false; readonly locked: true; readonly retryAfterSeconds: number }
  /** The threshold is taken by attempts still being checked: wait for their outcome. */
  | { readonly ok: false; readonly locked: false };

export interface Settled {
  /** Set when this failure locked the identifier (exactly once per lockout). */
  readonly lockedUntil: Date | undefined;
}

export class CounterStore {
  readonly #db: Database;
  readonly #config: LockoutConfig;

  constructor(db: Database, config: LockoutConfig) {
    this.#db = db;
    this.#config = config;
  }

  async reserve(identifier: string): Promise<Reservation> {
    return this.#locked<Reservation>(identifier, (row, now) => {
      const admin = adminLock(row, now);
      if (admin.locked) {
        const retryAfterSeconds = admin.until ? secondsUntil(admin.until, now) : INDEFINITE_LOCK_RETRY_SECONDS;
        return [row, { ok: false, locked: true, retryAfterSeconds }];
      }
      const lockedUntil = row.locked_until ? new Date(row.locked_until) : undefined;
      if (lockedUntil && lockedUntil > now) return [row, { ok: false, locked: true, retryAfterSeconds: secondsUntil(lockedUntil, now) }];
      const fresh = this.#windowEnded(row, now) ? { ...row, failures: 0, pending: 0, window_started_at: now } : row;
      if (fresh.failures + fresh.pending >= this.#config.threshold) return [fresh, { ok: false, locked: false }];
      return [{ ...fresh, pending: fresh.pending + 1 }, { ok: true }];
    });
  }

  async settle(identifier: string, outcome: 'succeeded' | 'failed' | 'error'): Promise<Settled> {
    return this.#locked<Settled>(identifier, (row, now) => {
      const pending = Math.max(0, row.pending - 1);
      if (outcome === 'succeeded') return [{ ...row, pending, failures: 0, lockouts_in_a_row: 0, locked_until: null }, { lockedUntil: undefined }];
      if (outcome === 'error') return [{ ...row, pending }, { lockedUntil: undefined }];
      const failures = row.failures + 1;
      if (failures < this.#config.threshold) return [{ ...row, pending, failures }, { lockedUntil: undefined }];
      const lockouts = row.lockouts_in_a_row + 1;
      const lockedUntil = new Date(now.getTime() + lockDurationSeconds(this.#config, lockouts) * 1000);
      // The lock starts a new window: after it, the identifier gets `threshold` fresh tries.
      return [{ ...row, pending, failures: 0, window_started_at: now, locked_until: lockedUntil, lockouts_in_a_row: lockouts }, { lockedUntil }];
    });
  }

  async status(identifier: string, em?: SqlEntityManager): Promise<LockoutStatus> {
    return (await this.statuses([identifier], em)).get(identifier)!;
  }

  async statuses(identifiers: readonly string[], em?: SqlEntityManager): Promise<Map<string, LockoutStatus>> {
    const manager = em ?? this.#db.em();
    const rows = identifiers.length
      ? ((await manager.getConnection().execute(
          `select identifier, failures, locked_until, admin_locked_at, admin_locked_until from lockout_counters
            where identifier in (${identifiers.map(() => '?').join(', ')})`,
          [...identifiers],
          'all',
          manager.getTransactionContext(),
        )) as (Pick<CounterRow, 'failures' | 'locked_until' | 'admin_locked_at' | 'admin_locked_until'> & { identifier: string })[])
      : [];
    const byId = new Map(rows.map((r) => [r.identifier, r]));
    const now = new Date();
    return new Map(identifiers.map((identifier) => [identifier, statusOf(identifier, byId.get(identifier), now)]));
  }

  /** An administrator's lock, in the caller's transaction when `em` is given. */
  async adminLock(identifier: string, lock: AdminLock, em?: SqlEntityManager): Promise<LockoutStatus> {
    const manager = em ?? this.#db.em();
    await manager.getConnection().execute(
      `insert into lockout_counters (identifier, window_started_at, updated_at, admin_locked_at, admin_locked_until)
            values (?, now(), now(), now(), ?)
       on conflict (identifier) do update set admin_locked_at = now(), admin_locked_until = excluded.admin_locked_until, updated_at = now()`,
      [identifier, lock.until ?? null],
      'run',
      manager.getTransactionContext(),
    );
    return this.status(identifier, manager);
  }

  /** Clears the counter and every lock, the administrator's included. */
  async clear(identifier: string, em?: SqlEntityManager): Promise<LockoutStatus> {
    const manager = em ?? this.#db.em();
    await manager.getConnection().execute('delete from lockout_counters where identifier = ?', [identifier], 'run', manager.getTransactionContext());
    return { identifier, failures: 0, lockedUntil: undefined, adminLocked: false };
  }

  /** Clears the failure count and its lock, not an administrator's lock (a password reset). */
  async clearFailures(identifier: string): Promise<void> {
    const conn = this.#db.orm.em.getConnection();
    await conn.execute('delete from lockout_counters where identifier = ? and admin_locked_at is null', [identifier], 'run');
    await conn.execute(
      'update lockout_counters set failures = 0, locked_until = null, lockouts_in_a_row = 0, updated_at = now() where identifier = ?',
      [identifier],
      'run',
    );
  }

  /** Deletes counters that no longer hold anything: window over, no lock, nothing in flight. */
  async deleteExpired(): Promise<number> {
    const res = (await this.#db.orm.em.getConnection().execute(
      `delete from lockout_counters
        where (locked_until is null or locked_until < now())
          and (admin_locked_at is null or admin_locked_until < now())
          and window_started_at < now() - make_interval(secs => ?)`,
      [this.#config.windowSeconds],
      'run',
    )) as { affectedRows?: number };
    return res.affectedRows ?? 0;
  }

  #windowEnded(row: CounterRow, now: Date): boolean {
    return new Date(row.window_started_at).getTime() + this.#config.windowSeconds * 1000 <= now.getTime();
  }

  /** Runs `change` on the identifier's row under its lock and writes back what it returns. */
  async #locked<T>(identifier: string, change: (row: CounterRow, now: Date) => [CounterRow, T]): Promise<T> {
    return this.#db.transactional(async (em) => {
      const conn = em.getConnection();
      const trx = em.getTransactionContext();
      await conn.execute(
        'insert into lockout_counters (identifier, window_started_at, updated_at) values (?, now(), now()) on conflict (identifier) do nothing',
        [identifier],
        'run',
        trx,
      );
      const row = (await conn.execute(
        `select failures, pending, window_started_at, locked_until, lockouts_in_a_row, admin_locked_at, admin_locked_until
           from lockout_counters where identifier = ? for update`,
        [identifier],
        'get',
        trx,
      )) as CounterRow;
      const [next, result] = change(row, new Date());
      await conn.execute(
        `update lockout_counters set failures = ?, pending = ?, window_started_at = ?, locked_until = ?, lockouts_in_a_row = ?, updated_at = now()
          where identifier = ?`,
        [next.failures, next.pending, new Date(next.window_started_at), next.locked_until ? new Date(next.locked_until) : null, next.lockouts_in_a_row, identifier],
        'run',
        trx,
      );
      return result;
    });
  }
}

function statusOf(
  identifier: string,
  row: Pick<CounterRow, 'failures' | 'locked_until' | 'admin_locked_at' | 'admin_locked_until'> | undefined,
  now: Date,
): LockoutStatus {
  const counted = row?.locked_until ? new Date(row.locked_until) : undefined;
  const countedLock = counted && counted > now ? counted : undefined;
  const admin = row ? adminLock(row, now) : { locked: false, until: undefined };
  // An indefinite administrator's lock has no end: lockedUntil stays undefined, adminLocked says it.
  const lockedUntil = admin.locked ? (admin.until && countedLock && countedLock > admin.until ? countedLock : admin.until) : countedLock;
  return { identifier, failures: row?.failures ?? 0, lockedUntil, adminLocked: admin.locked };
}

/** Whether an administrator's lock holds now, and until when (undefined: until unlocked). */
function adminLock(row: Pick<CounterRow, 'admin_locked_at' | 'admin_locked_until'>, now: Date): { locked: boolean; until: Date | undefined } {
  if (!row.admin_locked_at) return { locked: false, until: undefined };
  const until = row.admin_locked_until ? new Date(row.admin_locked_until) : undefined;
  return until && until <= now ? { locked: false, until: undefined } : { locked: true, until };
}

function secondsUntil(until: Date, now: Date): number {
  return Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 1000));
}
