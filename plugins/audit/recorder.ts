/**
 * Writes entries and reads them back. An entry joins the caller's transaction and takes the
 * table's EXCLUSIVE lock first (readers are not blocked, other writers wait), so entries get
 * consecutive `seq` numbers and link to their predecessor in commit order, whoever writes them
 * and on however many instances; the lock ends with the caller's transaction.
 */
import type { SqlEntityManager } from '@mikro-orm/sql';
import { v7 as uuidv7 } from 'uuid';
import type { Database, JsonValue } from '../../core/index.ts';
import type { AuditEntry, AuditEntryInput, AuditVerification } from './contract.ts';
import { entryHash, GENESIS_HASH, type ChainedContent } from './chain.ts';
import { censorDetails, censorText } from './censor.ts';

interface EntryRow {
  readonly seq: string | number;
  readonly id: string;
  readonly at: string | Date;
  readonly actor: 'user' | 'cli';
  readonly actor_id: string | null;
  readonly action: string;
  readonly target_type: string;
  readonly target_id: string | null;
  readonly reason: string | null;
  readonly request_id: string | null;
  readonly ip: string | null;
  readonly details: JsonValue | string;
  readonly prev_hash: string;
  readonly hash: string;
}

export interface EntryFilter {
  readonly actorId?: string;
  readonly action?: string;
  readonly targetId?: string;
  /** Entries older than this `seq` (keyset pagination, newest first). */
  readonly beforeSeq?: number;
  readonly limit: number;
}

const VERIFY_BATCH = 1000;

export class AuditRecorder {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  async record(input: AuditEntryInput, em: SqlEntityManager): Promise<AuditEntry> {
    const trx = em.getTransactionContext();
    if (!trx) throw new Error('audit.record must run inside the action\'s transaction (pass the em of db.transactional)');
    const conn = em.getConnection();
    await conn.execute('lock table audit_entries in exclusive mode', [], 'run', trx);
    const last = (await conn.execute('select seq, hash from audit_entries order by seq desc limit 1', [], 'get', trx)) as
      | { seq: string | number; hash: string }
      | undefined;
    const content: ChainedContent = {
      seq: last ? Number(last.seq) + 1 : 1,
      id: uuidv7(),
      at: new Date(),
      actor: input.actor.kind,
      actorId: input.actor.kind === 'user' ? input.actor.userId : null,
      action: input.action,
      targetType: input.targetType,
      targetId: input.targetId,
      reason: input.reason === null ? null : censorText(input.reason),
      requestId: input.requestId ?? null,
      ip: input.ip ?? null,
      // Through JSON once, so what is hashed is what jsonb gives back (no undefined, no Dates).
      details: censorDetails(JSON.parse(JSON.stringify(input.details ?? {})) as JsonValue),
      prevHash: last?.hash ?? GENESIS_HASH,
    };
    const hash = await entryHash(content);
    await conn.execute(
      `insert into audit_entries (seq, id, at, actor, actor_id, action, target_type, target_id, reason, request_id, ip, details, prev_hash, hash)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?, ?)`,
      [
        content.seq,
        content.id,
        content.at,
        content.actor,
        content.actorId,
        content.action,
        content.targetType,
        content.targetId,
        content.reason,
        content.requestId,
        content.ip,
        JSON.stringify(content.details),
        content.prevHash,
        hash,
      ],
      'run',
      trx,
    );
    return entryView(content);
  }

  async list(filter: EntryFilter): Promise<{ seq: number; entry: AuditEntry }[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.actorId) (where.push('actor_id = ?'), params.push(filter.actorId));
    if (filter.action) (where.push('action = ?'), params.push(filter.action));
    if (filter.targetId) (where.push('target_id = ?'), params.push(filter.targetId));
    if (filter.beforeSeq !== undefined) (where.push('seq < ?'), params.push(filter.beforeSeq));
    params.push(filter.limit);
    const rows = (await this.#db.em().getConnection().execute(
      `select * from audit_entries ${where.length ? `where ${where.join(' and ')}` : ''} order by seq desc limit ?`,
      params,
      'all',
    )) as EntryRow[];
    return rows.map((row) => ({ seq: Number(row.seq), entry: entryView(contentOf(row)) }));
  }

  /** Walks the chain from the first entry, in batches, and stops at the first broken link. */
  async verify(): Promise<AuditVerification> {
    const conn = this.#db.em().getConnection();
    let expectedSeq = 1;
    let prevHash = GENESIS_HASH;
    for (;;) {
      const rows = (await conn.execute('select * from audit_entries where seq >= ? order by seq limit ?', [expectedSeq, VERIFY_BATCH], 'all')) as EntryRow[];
      for (const row of rows) {
        const content = contentOf(row);
        const broken = (problem: string): AuditVerification => ({
          ok: false,
          entries: expectedSeq - 1,
          brokenAt: { seq: content.seq, id: content.id, problem },
        });
        if (content.seq !== expectedSeq) return broken(`expected entry #${expectedSeq} next, found #${content.seq} (entries are missing)`);
        if (row.prev_hash !== prevHash) return broken('its link to the previous entry does not match (an entry before it was changed or removed)');
        if ((await entryHash(content)) !== row.hash) return broken('its hash does not match its content (the entry was changed)');
        prevHash = row.hash;
        expectedSeq++;
      }
      if (rows.length < VERIFY_BATCH) return { ok: true, entries: expectedSeq - 1 };
    }
  }
}

function contentOf(row: EntryRow): ChainedContent {
  return {
    seq: Number(row.seq),
    id: row.id,
    at: new Date(row.at),
    actor: row.actor,
    actorId: row.actor_id,
    action: row.action,
    targetType: row.target_type,
    targetId: row.target_id,
    reason: row.reason,
    requestId: row.request_id,
    ip: row.ip,
    details: typeof row.details === 'string' ? (JSON.parse(row.details) as JsonValue) : row.details,
    prevHash: row.prev_hash,
  };
}

function entryView(c: ChainedContent): AuditEntry {
  return {
    id: c.id,
    at: c.at.toISOString(),
    actorId: c.actorId,
    actor: c.actor,
    action: c.action,
    targetType: c.targetType,
    targetId: c.targetId,
    reason: c.reason,
    requestId: c.requestId,
    ip: c.ip,
    details: c.details as Readonly<Record<string, JsonValue>>,
  };
}
