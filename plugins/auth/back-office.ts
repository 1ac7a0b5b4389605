/**
 * What the back office needs from auth (API.md "admin plugin"), behind auth's contract so no
 * other plugin reads auth's tables: accounts with their last login and live sessions, a search
 * by email or display name, and role changes that never leave the label without an admin.
 */
import type { SqlEntityManager } from '@mikro-orm/sql';
import type { Database } from '../../core/index.ts';
import { userFromRow, type UserRow } from './user-view.ts';
import type { AccountQuery, AccountSummary, ListedAccount, Role, SetRoleResult } from './contract.ts';

interface AccountRow extends UserRow {
  readonly email_normalized: string;
  readonly last_login_at: string | Date | null;
  readonly active_sessions: string | number;
}

// One statement per page: the session count is a correlated subquery over the user_id index.
const ACCOUNT_COLUMNS = `u.id, u.email, u.email_normalized, u.display_name, u.role, u.email_verified_at, u.created_at, u.last_login_at,
  (select count(*) from auth_sessions s
    where s.user_id = u.id and s.revoked_at is null and s.idle_expires_at > now() and s.absolute_expires_at > now()) as active_sessions`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class BackOffice {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  async get(userId: string, em?: SqlEntityManager): Promise<AccountSummary | undefined> {
    if (!UUID.test(userId)) return undefined;
    const manager = em ?? this.#db.em();
    const row = (await manager
      .getConnection()
      .execute(`select ${ACCOUNT_COLUMNS} from auth_users u where u.id = ?`, [userId], 'get', manager.getTransactionContext())) as AccountRow | undefined;
    return row ? accountFromRow(row) : undefined;
  }

  /**
   * Newest accounts first, keyset-paginated on (created_at, id). `q` matches part of the email
   * or the display name, case-insensitively (trigram indexes serve it where pg_trgm exists).
   */
  async list(query: AccountQuery): Promise<ListedAccount[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.q) {
      const pattern = `%${escapeLike(query.q.toLowerCase())}%`;
      where.push(`(u.email_normalized like ? or lower(u.display_name) like ?)`);
      params.push(pattern, pattern);
    }
    if (query.role) {
      where.push('u.role = ?');
      params.push(query.role);
    }
    if (query.after) {
      where.push('(u.created_at, u.id) < (?::timestamptz, ?)');
      params.push(query.after.createdAt, query.after.id);
    }
    params.push(query.limit);
    const rows = (await this.#db.em().getConnection().execute(
      `select ${ACCOUNT_COLUMNS}, u.created_at::text as created_key from auth_users u
        ${where.length ? `where ${where.join(' and ')}` : ''}
        order by u.created_at desc, u.id desc
        limit ?`,
      params,
      'all',
    )) as (AccountRow & { created_key: string })[];
    // The position keeps the timestamp as text: microseconds a JS Date would lose.
    return rows.map((row) => ({ account: accountFromRow(row), position: { createdAt: row.created_key, id: row.id } }));
  }

  /**
   * Changes the role in the caller's transaction. Every admin row is locked first (in id order,
   * so concurrent changes queue instead of deadlocking), then counted: two admins demoting each
   * other at once cannot both succeed.
   */
  async setRole(userId: string, role: Role, em: SqlEntityManager): Promise<SetRoleResult> {
    if (!UUID.test(userId)) return { outcome: 'not_found' };
    const conn = em.getConnection();
    const trx = em.getTransactionContext();
    if (!trx) throw new Error('setRole must run inside a transaction (pass the em of db.transactional)');
    const admins = (await conn.execute(`select id from auth_users where role = 'admin' order by id for update`, [], 'all', trx)) as { id: string }[];
    const target = (await conn.execute('select role from auth_users where id = ? for update', [userId], 'get', trx)) as { role: Role } | undefined;
    if (!target) return { outcome: 'not_found' };
    if (target.role === role) return { outcome: 'unchanged', previousRole: role };
    if (target.role === 'admin' && admins.length <= 1) return { outcome: 'last_admin' };
    await conn.execute('update auth_users set role = ? where id = ?', [role, userId], 'run', trx);
    return { outcome: 'changed', previousRole: target.role };
  }
}

function accountFromRow(row: AccountRow): AccountSummary {
  return {
    ...userFromRow(row),
    loginIdentifier: row.email_normalized,
    lastLoginAt: row.last_login_at === null ? null : new Date(row.last_login_at).toISOString(),
    activeSessions: Number(row.active_sessions),
  };
}

/** `%`, `_` and the escape character itself match literally in a LIKE pattern. */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}
