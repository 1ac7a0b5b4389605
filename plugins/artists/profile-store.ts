/**
 * The `artists_profiles` table in plain SQL, one statement per operation so each is atomic on its
 * own: an application is an upsert that decides the new status in the database (two PUTs at once
 * cannot both read "rejected" and race), and a review is a conditional update that only a pending
 * row passes (two admins at once: one wins, the other finds nothing to update).
 */
import type { SqlEntityManager } from '@mikro-orm/sql';
import type { ArtistProfile, ArtistStatus } from './contract.ts';
import type { QueuePosition } from './schemas.ts';

/** A row as selected by `COLUMNS`. */
interface ProfileRow {
  readonly user_id: string;
  readonly stage_name: string;
  readonly bio: string | null;
  readonly links: readonly string[];
  readonly status: ArtistStatus;
  readonly review_reason: string | null;
  readonly submitted_at: string | Date;
  readonly reviewed_at: string | Date | null;
  /** `submitted_at` at the database's (microsecond) precision, for keyset positions. */
  readonly submitted_key: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `id` can be a user id (PostgreSQL refuses anything else as a uuid, with an error). */
export const isUuid = (id: string): boolean => UUID.test(id);

const COLUMNS = `user_id, stage_name, bio, links, status, review_reason, submitted_at, reviewed_at,
  to_json(submitted_at) #>> '{}' as submitted_key`;

export interface Application {
  readonly stageName: string;
  readonly bio: string | null;
  readonly links: readonly string[];
}

export interface Decision {
  readonly status: Exclude<ArtistStatus, 'pending'>;
  readonly reason: string | null;
  readonly reviewerId: string;
}

export interface QueueQuery {
  readonly status: ArtistStatus | undefined;
  readonly after: QueuePosition | undefined;
  /** Rows to fetch (a page's limit plus one, to know whether there is a next page). */
  readonly limit: number;
}

/** A profile with its keyset position in the queue. */
export interface QueuedProfile {
  readonly profile: ArtistProfile;
  readonly position: QueuePosition;
}

export class ProfileStore {
  /** The profile of `userId`, through `em` (a request's, or a transaction's). */
  async get(em: SqlEntityManager, userId: string): Promise<ArtistProfile | undefined> {
    if (!isUuid(userId)) return undefined; // no such user, rather than a database error
    const row = (await em.getConnection().execute(`select ${COLUMNS} from artists_profiles where user_id = ?`, [userId], 'get', em.getTransactionContext())) as
      | ProfileRow
      | undefined;
    return row && toProfile(row);
  }

  /**
   * Creates or replaces the application of `userId`. A new or rejected profile becomes pending
   * with a new `submitted_at` (the back of the queue) and the last review cleared; a pending one is
   * edited in place and keeps its place in the queue; an approved one stays approved (just edits).
   */
  async apply(em: SqlEntityManager, userId: string, application: Application): Promise<ArtistProfile> {
    const row = (await em.getConnection().execute(
      `insert into artists_profiles as p (user_id, stage_name, bio, links, status, submitted_at, updated_at)
       values (?, ?, ?, ?::jsonb, 'pending', now(), now())
       on conflict (user_id) do update set
         stage_name = excluded.stage_name,
         bio = excluded.bio,
         links = excluded.links,
         status = case when p.status = 'rejected' then 'pending' else p.status end,
         submitted_at = case when p.status = 'rejected' then now() else p.submitted_at end,
         review_reason = case when p.status = 'rejected' then null else p.review_reason end,
         reviewed_at = case when p.status = 'rejected' then null else p.reviewed_at end,
         reviewed_by = case when p.status = 'rejected' then null else p.reviewed_by end,
         updated_at = now()
       returning ${COLUMNS}`,
      [userId, application.stageName, application.bio, JSON.stringify(application.links)],
      'get',
      em.getTransactionContext(),
    )) as ProfileRow;
    return toProfile(row);
  }

  /**
   * Records a decision on a pending application; undefined when there is no pending application of
   * `userId` (none at all, or already decided). Under concurrency the row lock serialises the
   * updates and the second one re-checks `status = 'pending'` against the committed row, so it
   * finds nothing: one decision per application.
   */
  async decide(em: SqlEntityManager, userId: string, decision: Decision): Promise<ArtistProfile | undefined> {
    const row = (await em.getConnection().execute(
      `update artists_profiles
          set status = ?, review_reason = ?, reviewed_at = now(), reviewed_by = ?, updated_at = now()
        where user_id = ? and status = 'pending'
        returning ${COLUMNS}`,
      [decision.status, decision.reason, decision.reviewerId, userId],
      'get',
      em.getTransactionContext(),
    )) as ProfileRow | undefined;
    return row && toProfile(row);
  }

  /** Profiles oldest application first (`submitted_at`, then `user_id`), after `after`. */
  async queue(em: SqlEntityManager, query: QueueQuery): Promise<QueuedProfile[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.status !== undefined) {
      where.push('status = ?');
      params.push(query.status);
    }
    if (query.after !== undefined) {
      where.push('(submitted_at, user_id) > (?::timestamptz, ?::uuid)');
      params.push(query.after.submittedAt, query.after.userId);
    }
    const rows = (await em.getConnection().execute(
      `select ${COLUMNS} from artists_profiles
        ${where.length > 0 ? `where ${where.join(' and ')}` : ''}
        order by submitted_at, user_id
        limit ?`,
      [...params, query.limit],
      'all',
      em.getTransactionContext(),
    )) as ProfileRow[];
    return rows.map((row) => ({ profile: toProfile(row), position: { submittedAt: row.submitted_key, userId: row.user_id } }));
  }
}

function toProfile(row: ProfileRow): ArtistProfile {
  return {
    userId: row.user_id,
    stageName: row.stage_name,
    bio: row.bio,
    links: [...row.links],
    status: row.status,
    reviewReason: row.review_reason,
    submittedAt: new Date(row.submitted_at).toISOString(),
    reviewedAt: row.reviewed_at === null ? null : new Date(row.reviewed_at).toISOString(),
  };
}
