/**
 * The one cursor-pagination helper every list route uses (API.md, "Lists"): `?limit=` 1..100
 * (default 20), an opaque `?cursor=`, and `{ items, nextCursor }` answers.
 *
 *   router.get('/v1/notes', { query: v.object({ ...paginationQuery }) }, async (http) => {
 *     const { limit, cursor } = http.state.query;
 *     const scope = `notes.list:${userId}`;
 *     const after = cursor === undefined ? undefined : await cursors.decode(cursor, scope, NotePosition);
 *     const rows = await fetchNotes(after, limit + 1);   // keyset: `where (created_at, id) < (?, ?)`
 *     http.body = await page(rows, { limit, codec: cursors, scope, positionOf: (r) => ({ createdAt: r.createdAt, id: r.id }), map: toJson });
 *   });
 *
 * Keyset positions (the sort key of the last item served, plus a unique tie-breaker) keep a walk
 * free of duplicates and gaps while rows are inserted; an offset would not. Keep the sort key at
 * the database's precision (PostgreSQL timestamps have microseconds, a JS Date milliseconds:
 * select the timestamp as text, or sort by a UUIDv7 id).
 */
import * as v from 'valibot';
import { MAX_CURSOR_LENGTH, type CursorCodec, type JsonValue } from './cursor-codec.ts';

export const DEFAULT_PAGE_LIMIT = 20;
export const MAX_PAGE_LIMIT = 100;

const LIMIT_MESSAGE = `must be an integer from 1 to ${MAX_PAGE_LIMIT}`;
const CURSOR_MESSAGE = 'must be a cursor this list issued (its nextCursor)';
const CURSOR_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * The `limit` and `cursor` query parameters, to spread into a route's query schema:
 * `query: v.object({ ...paginationQuery, status: v.optional(v.picklist(['draft', 'live'])) })`.
 * `limit` becomes a number (default 20); a bad one answers 422 naming `limit`. `cursor` is only
 * checked for shape here; `CursorCodec.decode` verifies it.
 */
export const paginationQuery = {
  limit: v.optional(
    v.pipe(
      v.string(LIMIT_MESSAGE),
      v.regex(/^[0-9]{1,3}$/, LIMIT_MESSAGE),
      v.toNumber(LIMIT_MESSAGE),
      v.minValue(1, LIMIT_MESSAGE),
      v.maxValue(MAX_PAGE_LIMIT, LIMIT_MESSAGE),
    ),
    String(DEFAULT_PAGE_LIMIT),
  ),
  cursor: v.optional(
    v.pipe(
      v.string(CURSOR_MESSAGE),
      v.check((s) => s.length <= MAX_CURSOR_LENGTH && CURSOR_SHAPE.test(s), CURSOR_MESSAGE), // one check: one error
    ),
  ),
} as const;

/** `paginationQuery` as a schema of its own, for list routes with no other query parameter. */
export const paginationQuerySchema = v.object(paginationQuery);

/** What a list route's handler reads: `{ limit: number; cursor?: string }`. */
export type PaginationQuery = v.InferOutput<typeof paginationQuerySchema>;

/** A list answer (API.md): `nextCursor` is null on the last page. */
export interface Page<Item> {
  readonly items: Item[];
  readonly nextCursor: string | null;
}

export interface PageOptions<Row> {
  /** The page size the client asked for; the rows were fetched with `limit + 1`. */
  readonly limit: number;
  readonly codec: CursorCodec;
  /** The list and whose it is, e.g. `notes.list:<userId>`: the same scope `decode` is given. */
  readonly scope: string;
  /** Where the walk resumes after `row`: its sort key and a unique tie-breaker, e.g. `{ createdAt, id }`. */
  readonly positionOf: (row: Row) => JsonValue;
}

/**
 * Turns rows fetched with `limit + 1` into a page: the first `limit` rows (mapped when `map` is
 * given), and a cursor after the last of them when there was one row more, otherwise null.
 */
export function page<Row, Item>(rows: readonly Row[], options: PageOptions<Row> & { readonly map: (row: Row) => Item }): Promise<Page<Item>>;
export function page<Row>(rows: readonly Row[], options: PageOptions<Row>): Promise<Page<Row>>;
export async function page<Row, Item>(
  rows: readonly Row[],
  options: PageOptions<Row> & { readonly map?: (row: Row) => Item },
): Promise<Page<Row | Item>> {
  const { limit, codec, scope, positionOf, map } = options;
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`page limit must be a positive integer (got ${limit})`);
  const served = rows.slice(0, limit);
  const last = served.at(-1);
  const nextCursor = rows.length > limit && last !== undefined ? await codec.encode(positionOf(last), scope) : null;
  return { items: map ? served.map(map) : served, nextCursor };
}
