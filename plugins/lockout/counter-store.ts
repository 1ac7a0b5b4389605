/**
 * Failed-login counters, one row per normalised email (existing account or not, so locking
 * reveals nothing). Every change is one statement that decides and writes under the row's lock,
 * so counts are exact under concurrency and across instances sharing the database.
 *
 * A login first reserves a slot (`pending`); while failures plus attempts still being checked
 * fill the threshold, further attempts wait for those outcomes. 50 parallel wrong passwords
 * therefore check exactly `threshold` passwords, lock once, and the waiting 45 see the lock; 50
 * parallel right ones all get in, in turns. A reservation left by a crashed process expires with
 * its window.
 */
import type { SqlEntityManager } from '@mikro-orm/sql';
import type { Database, NamedStatement } from '../../core/index.ts';
import type { AdminLock, LockoutStatus } from './contract.ts';
import type { LockoutConfig } from './config.ts';

interface CounterRow {
  failures: number;
  pending: number;
  window_started_at: string | Date;
  locked_until: string | Date | null;
  lockouts_in_a_row: number;
  admin_locked_at: string | Date | null;
  admin_locked_until: string | Date | null;
}

const STALE_PENDING_SECONDS = 60;

/**
 * Each change is one statement (one round trip, the row locked only while it runs): a login pays
 * two of them, not two transactions of five. Time is the database's `now()`, one clock for every
 * instance. $1 is always the identifier.
 */
const adminLocked = '(c.admin_locked_at is not null and (c.admin_locked_until is null or c.admin_locked_until > now()))';
const windowEnded = 'c.window_started_at + make_interval(secs => $2::int) <= now()';
/**
 * Slots no attempt has touched for a minute were left by attempts that never settled (a crash,
 * or the database away when they tried): forgotten, so they cannot keep an identifier's
 * logins waiting until its window ends. A real attempt settles within its route's time budget.
 */
const pendingLeft = `c.updated_at < now() - make_interval(secs => ${STALE_PENDING_SECONDS})`;

/** Takes a slot (returns a row) unless a lock holds or failures plus pending fill the threshold ($3). */
const RESERVE: NamedStatement = {
  name: 'empulse_lockout_reserve',
  text: `insert into lockout_counters as c (identifier, pending, window_started_at, updated_at) values ($1, 1, now(), now())
    on conflict (identifier) do update set
      failures = case when ${windowEnded} then 0 else c.failures end,
      pending = case when ${windowEnded} or ${pendingLeft} then 1 else c.pending + 1 end,
      window_started_at = case when ${windowEnded} then now() else c.window_started_at end,
      updated_at = now()
    where not ${adminLocked} and (c.locked_until is null or c.locked_until <= now())
      and (${windowEnded} or c.failures + (case when ${pendingLeft} then 0 else c.pending end) < $3::int)
    returning 1 as taken`,
};

const WHY_REFUSED: NamedStatement = {
  name: 'empulse_lockout_why_refused',
  text: 'select locked_until, admin_locked_at, admin_locked_until, now() as now from lockout_counters where identifier = $1',
};

/** A success ends the streak and any counted lock (not an administrator's). */
const SETTLE_SUCCEEDED: NamedStatement = {
  name: 'empulse_lockout_settle_succeeded',
  text: `update lockout_counters set pending = greatest(0, pending - 1), failures = 0, lockouts_in_a_row = 0, locked_until = null, updated_at = now()
    where identifier = $1`,
};

/** The password could not be checked: the slot is given back, nothing counted. */
const SETTLE_ERROR: NamedStatement = {
  name: 'empulse_lockout_settle_error',
  text: 'update lockout_counters set pending = greatest(0, pending - 1), updated_at = now() where identifier = $1',
};

/**
 * Counts a failure; the one that reaches the threshold ($2) locks for lockSeconds ($3) ×
 * growthFactor ($4) ^ earlier lockouts in a row, at most maxLockSeconds ($5), and starts a new
 * window. The growth is capped in the exponent (exp/ln), so a long streak never overflows. `prev` locks the row first, so `locks` is
 * decided on the same version the update changes.
 */
const SETTLE_FAILED: NamedStatement = {
  name: 'empulse_lockout_settle_failed',
  text: `with prev as (select identifier, failures + 1 >= $2::int as locks from lockout_counters where identifier = $1 for update)
    update lockout_counters c set
      pending = greatest(0, c.pending - 1),
      failures = case when prev.locks then 0 else c.failures + 1 end,
      window_started_at = case when prev.locks then now() else c.window_started_at end,
      lockouts_in_a_row = case when prev.locks then c.lockouts_in_a_row + 1 else c.lockouts_in_a_row end,
      locked_until = case when prev.locks
        then now() + make_interval(secs => least($5::float8, round($3::float8 * exp(least(c.lockouts_in_a_row * ln($4::float8), ln($5::float8 / $3::float8))))))
        else c.locked_until end,
      updated_at = now()
    from prev where c.identifier = prev.identifier
    returning prev.locks, c.locked_until`,
};

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
    const c = this.#config;
    const [taken] = await this.#db.query(RESERVE, [identifier, c.windowSeconds, c.threshold]);
    if (taken) return { ok: true };
    // No slot: say why. The row may have changed since; a caller told to wait asks again anyway.
    const [row] = await this.#db.query<Pick<CounterRow, 'locked_until' | 'admin_locked_at' | 'admin_locked_until'> & { now: Date | string }>(WHY_REFUSED, [identifier]);
    if (!row) return { ok: false, locked: false };
    const now = new Date(row.now);
    const admin = adminLock(row, now);
    if (admin.locked) return { ok: false, locked: true, retryAfterSeconds: admin.until ? secondsUntil(admin.until, now) : INDEFINITE_LOCK_RETRY_SECONDS };
    const lockedUntil = row.locked_until ? new Date(row.locked_until) : undefined;
    if (lockedUntil && lockedUntil > now) return { ok: false, locked: true, retryAfterSeconds: secondsUntil(lockedUntil, now) };
    return { ok: false, locked: false };
  }

  async settle(identifier: string, outcome: 'succeeded' | 'failed' | 'error'): Promise<Settled> {
    if (outcome !== 'failed') {
      await this.#db.query(outcome === 'succeeded' ? SETTLE_SUCCEEDED : SETTLE_ERROR, [identifier]);
      return { lockedUntil: undefined };
    }
    const c = this.#config;
    const [row] = await this.#db.query<{ locks: boolean; locked_until: Date | string | null }>(SETTLE_FAILED, [
      identifier,
      c.threshold,
      c.lockSeconds,
      c.growthFactor,
      c.maxLockSeconds,
    ]);
    return { lockedUntil: row?.locks && row.locked_until ? new Date(row.locked_until) : undefined };
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
