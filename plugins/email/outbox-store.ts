/**
 * SQL over `email_outbox`. Every statement is short and stands alone: no transaction is held
 * open while a message travels to the provider, so a slow provider never holds locks.
 *
 * Claiming: due rows are picked with `for update skip locked` (instances do not wait for each
 * other's rows) and leased by pushing `next_attempt_at` past the attempt's deadline, with
 * `attempts` counted up in the same statement; the update re-checks that the row is still due,
 * so a row another instance claimed meanwhile is never claimed twice. If the process dies mid-attempt, the lease runs out and the
 * row is due again. The claimed `attempts` value doubles as a fencing token: a result is written
 * only while the row still has it, so a late answer to a re-claimed row changes nothing.
 */
import { Buffer } from 'node:buffer';
import type { SqlEntityManager } from '@mikro-orm/sql';

export interface NewOutboxRow {
  readonly id: string;
  readonly recipient: string;
  readonly template: string;
  readonly payload: Uint8Array;
  readonly requestId: string | undefined;
}

export interface ClaimedRow {
  readonly id: string;
  readonly template: string;
  readonly payload: Uint8Array<ArrayBuffer> | null;
  /** Attempts including this one. */
  readonly attempts: number;
  readonly requestId: string | null;
}

const MAX_ERROR_CHARS = 1000;

export class OutboxStore {
  readonly #em: () => SqlEntityManager;

  /** `em` gives a fresh EntityManager for the worker's own statements. */
  constructor(em: () => SqlEntityManager) {
    this.#em = em;
  }

  /** Inserts with `em` (the caller's transaction, when it is in one), due at once. */
  async insert(em: SqlEntityManager, row: NewOutboxRow): Promise<void> {
    await em.execute(
      `insert into email_outbox (id, recipient, template, payload, status, attempts, next_attempt_at, request_id, created_at)
       values (?, ?, ?, ?, 'pending', 0, now(), ?, now())`,
      // MikroORM inlines parameters; it writes a Node Buffer as a bytea literal.
      [row.id, row.recipient, row.template, Buffer.from(row.payload), row.requestId ?? null],
      'run',
    );
  }

  async claim(limit: number, leaseMs: number): Promise<ClaimedRow[]> {
    const rows = await this.#em().execute<Record<string, unknown>[]>(
      `with due as (
         select id from email_outbox
         where status = 'pending' and next_attempt_at <= now()
         order by next_attempt_at
         limit ?
         for update skip locked
       )
       update email_outbox o
          set attempts = o.attempts + 1, next_attempt_at = now() + (? * interval '1 millisecond')
         from due
        where o.id = due.id and o.status = 'pending' and o.next_attempt_at <= now()
       returning o.id, o.template, o.payload, o.attempts, o.request_id`,
      [limit, leaseMs],
      'all',
    );
    return rows.map((r) => ({
      id: String(r.id),
      template: String(r.template),
      payload: r.payload == null ? null : new Uint8Array(r.payload as Uint8Array),
      attempts: Number(r.attempts),
      requestId: r.request_id == null ? null : String(r.request_id),
    }));
  }

  /** Sent: the sealed message (with its single-use tokens) is wiped. False when fenced off. */
  async markSent(id: string, attempts: number): Promise<boolean> {
    return this.#update(`status = 'sent', payload = null, sent_at = now()`, [], id, attempts);
  }

  async scheduleRetry(id: string, attempts: number, delayMs: number, error: string): Promise<boolean> {
    return this.#update(`next_attempt_at = now() + (? * interval '1 millisecond'), last_error = ?`, [delayMs, clip(error)], id, attempts);
  }

  /**
   * Failed for good. The sealed payload is kept so an operator can requeue after fixing the cause
   * (`update email_outbox set status = 'pending', attempts = 0 where ...`); it stays encrypted.
   */
  async markFailed(id: string, attempts: number, error: string): Promise<boolean> {
    return this.#update(`status = 'failed', last_error = ?`, [clip(error)], id, attempts);
  }

  /** Milliseconds until the earliest pending row is due (0 when overdue), null when none is pending. */
  async msUntilNextDue(): Promise<number | null> {
    const rows = await this.#em().execute<Record<string, unknown>[]>(
      `select greatest(0, extract(epoch from (min(next_attempt_at) - now())) * 1000) as ms
         from email_outbox where status = 'pending'`,
      [],
      'all',
    );
    const ms = rows[0]?.ms;
    return ms == null ? null : Math.ceil(Number(ms));
  }

  /** Messages waiting to be delivered (queued or due for a retry), and the oldest one's age. */
  async backlog(): Promise<{ readonly pending: number; readonly oldestSeconds: number }> {
    const rows = await this.#em().execute<Record<string, unknown>[]>(
      `select count(*) as pending, coalesce(extract(epoch from (now() - min(created_at))), 0) as oldest
         from email_outbox where status = 'pending'`,
      [],
      'all',
    );
    return { pending: Number(rows[0]?.pending ?? 0), oldestSeconds: Number(rows[0]?.oldest ?? 0) };
  }

  async #update(set: string, params: unknown[], id: string, attempts: number): Promise<boolean> {
    const result = await this.#em().execute<{ affectedRows: number }>(
      `update email_outbox set ${set} where id = ? and attempts = ? and status = 'pending'`,
      [...params, id, attempts],
      'run',
    );
    return result.affectedRows > 0;
  }
}

function clip(error: string): string {
  return error.length > MAX_ERROR_CHARS ? `${error.slice(0, MAX_ERROR_CHARS - 1)}…` : error;
}
