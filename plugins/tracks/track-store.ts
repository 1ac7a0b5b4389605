/**
 * The `tracks_submissions` table in plain SQL. Every state change is one conditional statement, so the rules
 * hold under concurrency without a read-then-write race: an edit or a deletion only matches a
 * `submitted` row of its owner, a review only a `submitted` row (two admins at once: one wins, the
 * other matches nothing and is told why by a fresh read).
 */
import type { SqlEntityManager } from '@mikro-orm/sql';
import type { Track, TrackFormat, TrackStatus } from './contract.ts';
import type { ListPosition, TrackMetadata, TrackPatch } from './schemas.ts';

/** A row as selected by `COLUMNS`. */
interface TrackRow {
  readonly id: string;
  readonly artist_id: string;
  readonly title: string;
  readonly artists: readonly string[];
  readonly isrc: string | null;
  readonly genre: string;
  readonly explicit: boolean;
  readonly release_date: string | null;
  readonly status: TrackStatus;
  readonly format: TrackFormat;
  readonly content_type: string;
  readonly size_bytes: string | number;
  readonly sha256: string;
  readonly duration_seconds: number | null;
  readonly storage_key: string;
  readonly review_reason: string | null;
  readonly created_at: string | Date;
  readonly updated_at: string | Date;
  /** `created_at` at the database's (microsecond) precision, for keyset positions. */
  readonly created_key: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `id` can be a track id (PostgreSQL refuses anything else as a uuid, with an error). */
export const isUuid = (id: string): boolean => UUID.test(id);

// Dates as text: drivers turn a `date` into a local-time Date, which shifts the day.
const COLUMNS = `id, artist_id, title, artists, isrc, genre, explicit, release_date::text as release_date, status, format,
  content_type, size_bytes, sha256, duration_seconds, storage_key, review_reason, created_at, updated_at,
  to_json(created_at) #>> '{}' as created_key`;

/** A track with what only the plugin sees: where its bytes are. */
export interface StoredTrack {
  readonly track: Track;
  readonly storageKey: string;
  readonly position: ListPosition;
}

export interface NewTrack {
  readonly id: string;
  readonly artistId: string;
  readonly metadata: TrackMetadata;
  readonly format: TrackFormat;
  readonly contentType: string;
  readonly sizeBytes: number;
  readonly sha256: string;
  readonly durationSeconds: number | null;
  readonly storageKey: string;
}

export interface ListQuery {
  /** Only this artist's tracks (an artist's own list, or an admin's filter). */
  readonly artistIds: readonly string[] | undefined;
  readonly status: TrackStatus | undefined;
  readonly after: ListPosition | undefined;
  /** Rows to fetch (a page's limit plus one, to know whether there is a next page). */
  readonly limit: number;
}

export interface Decision {
  readonly status: Exclude<TrackStatus, 'submitted'>;
  readonly reason: string | null;
  readonly reviewerId: string;
}

type Mode = 'get' | 'all';

function run<T>(em: SqlEntityManager, sql: string, params: readonly unknown[], mode: Mode): Promise<T> {
  return em.getConnection().execute(sql, [...params], mode, em.getTransactionContext()) as Promise<T>;
}

export class TrackStore {
  async insert(em: SqlEntityManager, t: NewTrack): Promise<StoredTrack> {
    const m = t.metadata;
    const row = await run<TrackRow>(
      em,
      `insert into tracks_submissions (id, artist_id, title, artists, isrc, genre, explicit, release_date, status, format, content_type,
         size_bytes, sha256, duration_seconds, storage_key, created_at, updated_at)
       values (?, ?, ?, ?::jsonb, ?, ?, ?, ?::date, 'submitted', ?, ?, ?, ?, ?, ?, now(), now())
       returning ${COLUMNS}`,
      [t.id, t.artistId, m.title, JSON.stringify(m.artists), m.isrc, m.genre, m.explicit, m.releaseDate, t.format, t.contentType, t.sizeBytes, t.sha256, t.durationSeconds, t.storageKey],
      'get',
    );
    return toStored(row);
  }

  async get(em: SqlEntityManager, id: string): Promise<StoredTrack | undefined> {
    if (!isUuid(id)) return undefined;
    const row = await run<TrackRow | undefined>(em, `select ${COLUMNS} from tracks_submissions where id = ?`, [id], 'get');
    return row && toStored(row);
  }

  /** Newest first (`created_at`, then `id`, descending), after `after`. */
  async list(em: SqlEntityManager, query: ListQuery): Promise<StoredTrack[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.artistIds !== undefined) {
      if (query.artistIds.length === 0) return [];
      where.push(`artist_id in (${query.artistIds.map(() => '?').join(', ')})`);
      params.push(...query.artistIds);
    }
    if (query.status !== undefined) {
      where.push('status = ?');
      params.push(query.status);
    }
    if (query.after !== undefined) {
      where.push('(created_at, id) < (?::timestamptz, ?::uuid)');
      params.push(query.after.createdAt, query.after.id);
    }
    const rows = await run<TrackRow[]>(
      em,
      `select ${COLUMNS} from tracks_submissions ${where.length > 0 ? `where ${where.join(' and ')}` : ''}
        order by created_at desc, id desc limit ?`,
      [...params, query.limit],
      'all',
    );
    return rows.map(toStored);
  }

  /** Applies `patch` to a `submitted` track of `artistId`; undefined when no such row matches. */
  async edit(em: SqlEntityManager, id: string, artistId: string, patch: TrackPatch): Promise<StoredTrack | undefined> {
    if (!isUuid(id)) return undefined;
    const sets: string[] = [];
    const params: unknown[] = [];
    const set = (column: string, value: unknown, cast = '') => {
      sets.push(`${column} = ?${cast}`);
      params.push(value);
    };
    if (patch.title !== undefined) set('title', patch.title);
    if (patch.artists !== undefined) set('artists', JSON.stringify(patch.artists), '::jsonb');
    if (patch.isrc !== undefined) set('isrc', patch.isrc);
    if (patch.genre !== undefined) set('genre', patch.genre);
    if (patch.explicit !== undefined) set('explicit', patch.explicit);
    if (patch.releaseDate !== undefined) set('release_date', patch.releaseDate, '::date');
    const row = await run<TrackRow | undefined>(
      em,
      `update tracks_submissions set ${sets.join(', ')}, updated_at = now()
        where id = ? and artist_id = ? and status = 'submitted'
        returning ${COLUMNS}`,
      [...params, id, artistId],
      'get',
    );
    return row && toStored(row);
  }

  /** Deletes a `submitted` track of `artistId`; what was deleted, or undefined when nothing matched. */
  async remove(em: SqlEntityManager, id: string, artistId: string): Promise<StoredTrack | undefined> {
    if (!isUuid(id)) return undefined;
    const row = await run<TrackRow | undefined>(
      em,
      `delete from tracks_submissions where id = ? and artist_id = ? and status = 'submitted' returning ${COLUMNS}`,
      [id, artistId],
      'get',
    );
    return row && toStored(row);
  }

  /** Records a review of a `submitted` track; undefined when there is none to review. */
  async decide(em: SqlEntityManager, id: string, decision: Decision): Promise<StoredTrack | undefined> {
    // A non-uuid names no track: nothing to decide (PostgreSQL would refuse it with an error).
    if (!isUuid(id)) return undefined;
    const row = await run<TrackRow | undefined>(
      em,
      `update tracks_submissions set status = ?, review_reason = ?, reviewed_at = now(), reviewed_by = ?, updated_at = now()
        where id = ? and status = 'submitted'
        returning ${COLUMNS}`,
      [decision.status, decision.reason, decision.reviewerId, id],
      'get',
    );
    return row && toStored(row);
  }
}

function toStored(row: TrackRow): StoredTrack {
  return {
    track: {
      id: row.id,
      artistId: row.artist_id,
      title: row.title,
      artists: [...row.artists],
      isrc: row.isrc,
      genre: row.genre,
      explicit: row.explicit,
      releaseDate: row.release_date,
      status: row.status,
      format: row.format,
      contentType: row.content_type,
      sizeBytes: Number(row.size_bytes),
      sha256: row.sha256,
      durationSeconds: row.duration_seconds === null ? null : Number(row.duration_seconds),
      reviewReason: row.review_reason,
      createdAt: new Date(row.created_at).toISOString(),
      updatedAt: new Date(row.updated_at).toISOString(),
    },
    storageKey: row.storage_key,
    position: { createdAt: row.created_key, id: row.id },
  };
}
