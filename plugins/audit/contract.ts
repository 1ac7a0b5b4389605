/**
 * The audit service contract (provided by the audit plugin): an append-only, hash-chained record
 * of who did what. An entry is written in the caller's transaction, so an action and its entry
 * commit or roll back together: no admin action commits without its entry.
 */
import type { SqlEntityManager } from '@mikro-orm/sql';
import { createServiceRef, type HttpContext, type JsonValue } from '../../core/index.ts';

/** Who acted: a signed-in user (through the API), or an operator at the command line. */
export type AuditActor = { readonly kind: 'user'; readonly userId: string } | { readonly kind: 'cli' };

/** What a plugin records. `details` must never hold a secret or a TIN (known secret fields are censored). */
export interface AuditEntryInput {
  readonly actor: AuditActor;
  /** `<noun>.<verb>` in the past tense, e.g. `user.role.changed`, `artist.approved`, `w9.revealed`. */
  readonly action: string;
  /** What was acted on, e.g. `user`, `artist`, `track`, `w9`. */
  readonly targetType: string;
  readonly targetId: string | null;
  /** The reason the actor gave (admin actions require one). */
  readonly reason: string | null;
  readonly requestId?: string | null;
  readonly ip?: string | null;
  readonly details?: Readonly<Record<string, JsonValue>>;
}

/** An entry as `GET /v1/admin/audit` shows it (API.md `AuditEntry`). */
export interface AuditEntry {
  readonly id: string;
  readonly at: string;
  /** Null for the CLI. */
  readonly actorId: string | null;
  readonly actor: 'user' | 'cli';
  readonly action: string;
  readonly targetType: string;
  readonly targetId: string | null;
  readonly reason: string | null;
  readonly requestId: string | null;
  readonly ip: string | null;
  readonly details: Readonly<Record<string, JsonValue>>;
}

/** The outcome of walking the chain from its first entry. */
export type AuditVerification =
  | { readonly ok: true; readonly entries: number }
  | { readonly ok: false; readonly entries: number; readonly brokenAt: { readonly seq: number; readonly id: string; readonly problem: string } };

export interface AuditService {
  /**
   * Appends an entry inside the caller's transaction (the `em` its `db.transactional` gave);
   * throws when `em` is not in a transaction. Entries are chained in commit order: the chain's
   * lock is held until the caller's transaction ends, so keep those transactions short.
   */
  record(entry: AuditEntryInput, options: { readonly em: SqlEntityManager }): Promise<AuditEntry>;
  /** The actor, request id and client address of an API request made by `userId`. */
  requestActor(http: HttpContext, userId: string): Pick<AuditEntryInput, 'actor' | 'requestId' | 'ip'>;
  /** Walks the hash chain and names the first broken entry. */
  verify(): Promise<AuditVerification>;
}

export const auditServiceRef = createServiceRef<AuditService>('audit');
