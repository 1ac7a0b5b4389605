/**
 * The core cursor pagination: `limit` bounds and default, keyset walks without duplicates or gaps
 * while rows are inserted, cursors that cannot be altered, replayed on another list or user, and
 * that stay valid across kernels sharing a database (the key lives in `empulse_keys`).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as v from 'valibot';
import {
  createCursorCodec,
  definePlugin,
  loadOrCreateKey,
  Migration,
  page,
  paginationQuery,
  type CursorCodec,
  type HttpContext,
  type SqlExecutor,
} from '../core/index.ts';
import { createScratchDatabase, createTestKernel, type TestKernel } from '../host/testing.ts';
import { expectProblem } from './support/expect-problem.ts';

class PagesInit extends Migration {
  override up(): void {
    this.addSql(`create table pages_entries (
      id serial primary key,
      owner text not null,
      body text not null,
      created_at timestamptz not null
    )`);
  }
  override down(): void {
    this.addSql('drop table pages_entries');
  }
}

/** A keyset position: the timestamp at full (microsecond) precision, and the id as tie-breaker. */
const Position = v.strictObject({ createdAt: v.pipe(v.string(), v.maxLength(40)), id: v.pipe(v.number(), v.integer()) });
type Position = v.InferOutput<typeof Position>;
interface EntryRow {
  readonly id: number;
  readonly body: string;
  readonly created_at: string;
}

/**
 * Two lists with the same positions (entries newest first, and the same entries under another
 * route), per owner: a cursor is scoped to the list and the owner. Each call makes a fresh plugin
 * object, so each kernel builds its own codec from the key it loads from its database.
 */
function pagesPlugin() {
  let codec: Promise<CursorCodec> | undefined;
  return definePlugin({
    id: 'pages',
    version: '1.0.0',
    migrations: [{ name: 'pages/0001_init', class: PagesInit }],
    routes(router, ctx) {
      const cursors = () => (codec ??= loadOrCreateKey(ctx.db.orm.em.getConnection(), 'cursor').then(createCursorCodec));
      const list = (name: string) => async (http: HttpContext<unknown, { limit: number; cursor?: string | undefined }, { owner: string }>) => {
        const { limit, cursor } = http.state.query;
        const scope = `pages.${name}:${http.state.params.owner}`;
        const codec = await cursors();
        const after: Position | undefined = cursor === undefined ? undefined : await codec.decode(cursor, scope, Position);
        const conn = http.state.em.getConnection();
        const columns = `select id, body, to_json(created_at) #>> '{}' as created_at from pages_entries where owner = ?`;
        const rows = (
          after
            ? await conn.execute(`${columns} and (created_at, id) < (?::timestamptz, ?) order by created_at desc, id desc limit ?`, [
                http.state.params.owner,
                after.createdAt,
                after.id,
                limit + 1,
              ])
            : await conn.execute(`${columns} order by created_at desc, id desc limit ?`, [http.state.params.owner, limit + 1])
        ) as EntryRow[];
        http.body = await page(rows, {
          limit,
          codec,
          scope,
          positionOf: (row) => ({ createdAt: row.created_at, id: row.id }),
          map: (row) => ({ id: row.id, body: row.body }),
        });
      };
      const options = {
        query: v.object(paginationQuery),
        params: v.object({ owner: v.pipe(v.string(), v.regex(/^[a-z]{1,20}$/, 'must be a lower-case name')) }),
      };
      router.get('/v1/pages/:owner/entries', options, list('entries'));
      router.get('/v1/pages/:owner/archive', options, list('archive'));
    },
  });
}

type PageBody = { items: { id: number; body: string }[]; nextCursor: string | null };

const sql = (t: TestKernel): SqlExecutor => t.kernel.database.orm.em.getConnection();

/** `count` entries for `owner`, three per timestamp (ties the id must break), oldest first. */
async function seed(t: TestKernel, owner: string, count: number, base = '2026-01-01T00:00:00.000001Z'): Promise<number[]> {
  const rows = (await sql(t).execute(
    `insert into pages_entries (owner, body, created_at)
     select ?, 'entry ' || n, ?::timestamptz + make_interval(secs => (n / 3)) from generate_series(0, ? - 1) as n
     returning id`,
    [owner, base, count],
    'all',
  )) as { id: number }[];
  return rows.map((r) => r.id);
}

async function insertAt(t: TestKernel, owner: string, createdAt: string, body: string): Promise<number> {
  const row = (await sql(t).execute('insert into pages_entries (owner, body, created_at) values (?, ?, ?::timestamptz) returning id', [owner, body, createdAt], 'get')) as {
    id: number;
  };
  return row.id;
}

async function getPage(t: TestKernel, url: string): Promise<PageBody> {
  const res = await t.inject({ method: 'GET', url });
  assert.equal(res.statusCode, 200, `${url}: ${res.body}`);
  return res.json() as PageBody;
}

const pageUrl = (owner: string, cursor: string | null, limit?: number, list = 'entries') =>
  `/v1/pages/${owner}/${list}?${new URLSearchParams({ ...(limit !== undefined && { limit: String(limit) }), ...(cursor !== null && { cursor }) })}`;

/** Walks the list to its end; `between(n)` runs after page n (1-based) was read. */
async function walk(t: TestKernel, owner: string, limit: number | undefined, between?: (n: number) => Promise<void>): Promise<PageBody[]> {
  const pages: PageBody[] = [];
  let cursor: string | null = null;
  do {
    const body = await getPage(t, pageUrl(owner, cursor, limit));
    pages.push(body);
    cursor = body.nextCursor;
    await between?.(pages.length);
    assert.ok(pages.length < 50, 'the walk ends');
  } while (cursor !== null);
  return pages;
}

/** Replaces the character at `i` by another base64url character. */
const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);

describe('cursor pagination', () => {
  let t: TestKernel;
  before(async () => {
    t = await createTestKernel({ plugins: [pagesPlugin()] });
  });
  after(() => t.close());

  it('walks 45 rows in pages of 20, 20 and 5, newest first, without duplicates or gaps while rows are inserted', async () => {
    const ids = await seed(t, 'ada', 45);
    const expected = [...ids].reverse(); // newest first (ids grow with time, ties broken by id)
    const pages = await walk(t, 'ada', undefined, async (n) => {
      // New entries land at the head of the list: an offset-based walk would serve some rows twice.
      for (let i = 0; i < 3; i++) await insertAt(t, 'ada', '2027-01-01T00:00:00Z', `late ${n}.${i}`);
    });
    assert.deepEqual(pages.map((p) => p.items.length), [20, 20, 5], 'default limit 20');
    assert.deepEqual(pages.flatMap((p) => p.items.map((i) => i.id)), expected);
    assert.equal(pages.at(-1)!.nextCursor, null);
    for (const p of pages.slice(0, -1)) assert.equal(typeof p.nextCursor, 'string');
  });

  it('serves a row inserted behind the cursor exactly once, in its place', async () => {
    const ids = await seed(t, 'cy', 45);
    let inserted = 0;
    const pages = await walk(t, 'cy', 20, async (n) => {
      // After page 1: a row tying with the oldest timestamp (the 3 first seeded ids share it).
      if (n === 1) inserted = await insertAt(t, 'cy', '2026-01-01T00:00:00.000001Z', 'late, old timestamp');
    });
    const served = pages.flatMap((p) => p.items.map((i) => i.id));
    assert.deepEqual(pages.map((p) => p.items.length), [20, 20, 6]);
    assert.equal(new Set(served).size, served.length, 'no duplicates');
    // Same timestamp as ids[0..2], higher id: it sorts right before them.
    assert.deepEqual(served, [...ids.slice(3).reverse(), inserted, ids[2], ids[1], ids[0]]);
  });

  it('serves the limit asked for, 1 to 100, and refuses 0, 101 and abc naming `limit`', async () => {
    await seed(t, 'dee', 120);
    assert.equal((await getPage(t, pageUrl('dee', null, 1))).items.length, 1);
    assert.equal((await getPage(t, pageUrl('dee', null, 100))).items.length, 100);
    assert.equal((await getPage(t, pageUrl('dee', null))).items.length, 20);
    const full = await getPage(t, pageUrl('dee', null, 100));
    const rest = await getPage(t, pageUrl('dee', full.nextCursor, 100));
    assert.deepEqual([rest.items.length, rest.nextCursor], [20, null], 'a last page that is exactly full has no next cursor');
    for (const bad of ['0', '101', 'abc']) {
      const body = expectProblem(await t.inject({ url: `/v1/pages/dee/entries?limit=${bad}` }), 422, 'validation_failed');
      assert.deepEqual(body.errors?.map((e) => e.path), ['limit'], `limit=${bad}`);
    }
  });

  it('refuses a cursor with any character changed or cut short, naming `cursor`', async () => {
    await seed(t, 'eve', 30);
    const first = await getPage(t, pageUrl('eve', null, 10));
    const cursor = first.nextCursor!;
    const dot = cursor.indexOf('.');
    assert.ok(dot > 0, 'payload.mac');
    // The untouched cursor works (so the refusals below are about the changes).
    assert.equal((await getPage(t, pageUrl('eve', cursor, 10))).items.length, 10);
    const altered = [flip(cursor, 0), flip(cursor, dot - 1), flip(cursor, dot + 1), flip(cursor, cursor.length - 1), cursor.slice(0, -1), cursor.slice(0, dot), `${cursor}A`];
    for (const bad of altered) {
      const body = expectProblem(await t.inject({ url: pageUrl('eve', bad, 10) }), 422, 'validation_failed');
      assert.deepEqual(body.errors?.map((e) => e.path), ['cursor'], bad);
    }
    // A payload the client wrote itself (the position is readable, but not signable).
    const forged = `${Buffer.from(JSON.stringify({ createdAt: '2100-01-01T00:00:00Z', id: 999999 })).toString('base64url')}${cursor.slice(dot)}`;
    for (const bad of [forged, '', 'not-a-cursor', 'a.b', 'x'.repeat(2000)]) {
      const body = expectProblem(await t.inject({ url: pageUrl('eve', bad, 10) }), 422, 'validation_failed');
      assert.deepEqual(body.errors?.map((e) => e.path), ['cursor'], bad);
    }
  });

  it("refuses a cursor on another user's list or on another list of the same user", async () => {
    await seed(t, 'fay', 30);
    await seed(t, 'gus', 30);
    const cursor = (await getPage(t, pageUrl('fay', null, 10))).nextCursor!;
    assert.equal((await getPage(t, pageUrl('fay', cursor, 10))).items.length, 10);
    for (const url of [pageUrl('gus', cursor, 10), pageUrl('fay', cursor, 10, 'archive')]) {
      const body = expectProblem(await t.inject({ url }), 422, 'validation_failed');
      assert.deepEqual(body.errors?.map((e) => e.path), ['cursor'], url);
    }
  });
});

describe('cursor keys', () => {
  it('a cursor stays valid on a second kernel booted on the same database, and only there', async () => {
    const scratch = await createScratchDatabase();
    const other = await createTestKernel({ plugins: [pagesPlugin()] });
    try {
      const database = { driver: 'postgresql', url: scratch.url, poolMax: 3 } as const;
      const first = await createTestKernel({ plugins: [pagesPlugin()], database });
      const ids = await seed(first, 'hal', 30);
      const page1 = await getPage(first, pageUrl('hal', null, 10));
      const expected = await getPage(first, pageUrl('hal', page1.nextCursor, 10));
      await first.close(); // a restart: the second kernel loads the key from the database

      const second = await createTestKernel({ plugins: [pagesPlugin()], database });
      try {
        const resumed = await getPage(second, pageUrl('hal', page1.nextCursor, 10));
        assert.deepEqual(resumed, expected);
        assert.deepEqual(resumed.items.map((i) => i.id), [...ids].reverse().slice(10, 20));
      } finally {
        await second.close();
      }

      // Another deployment (another database, another key) refuses it, though its rows match.
      await seed(other, 'hal', 30);
      const body = expectProblem(await other.inject({ url: pageUrl('hal', page1.nextCursor, 10) }), 422, 'validation_failed');
      assert.deepEqual(body.errors?.map((e) => e.path), ['cursor']);
    } finally {
      await other.close();
      await scratch.drop();
    }
  });

  it('works the same on the embedded database (PGlite)', async () => {
    const t = await createTestKernel({ plugins: [pagesPlugin()], database: 'pglite' });
    try {
      const ids = await seed(t, 'ida', 25);
      const pages = await walk(t, 'ida', 10);
      assert.deepEqual(pages.flatMap((p) => p.items.map((i) => i.id)), [...ids].reverse());
      const key = await loadOrCreateKey(sql(t), 'cursor');
      assert.equal(key.length, 32);
      assert.deepEqual(await loadOrCreateKey(sql(t), 'cursor'), key);
    } finally {
      await t.close();
    }
  });

  it('loadOrCreateKey makes 32 random bytes once per name, the same for racing callers', async () => {
    const t = await createTestKernel({ plugins: [] });
    try {
      const db = sql(t);
      const raced = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateKey(t.kernel.database.orm.em.getConnection(), 'cursor')));
      for (const key of raced) {
        assert.equal(key.length, 32);
        assert.deepEqual(key, raced[0]);
      }
      const other = await loadOrCreateKey(db, 'other');
      assert.notDeepEqual(other, raced[0], 'each name has its own key');
      assert.deepEqual(await loadOrCreateKey(db, 'cursor'), raced[0]);
      const rows = (await db.execute('select name, octet_length(key) as bytes from empulse_keys order by name', [], 'all')) as { name: string; bytes: number }[];
      assert.deepEqual(rows, [{ name: 'cursor', bytes: 32 }, { name: 'other', bytes: 32 }]);
      await assert.rejects(loadOrCreateKey(db, 'Bad Name'), TypeError);
    } finally {
      await t.close();
    }
  });
});

describe('CursorCodec', () => {
  const key = (fill: number) => new Uint8Array(32).fill(fill);

  it('round-trips positions within a scope and refuses every single-character change and every truncation', async () => {
    const codec = await createCursorCodec(key(7));
    const position = { createdAt: '2026-01-01T00:00:00.123456+00:00', id: 42, tags: ['a', 'é'], more: null };
    const cursor = await codec.encode(position, 'list:u1');
    assert.match(cursor, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(await codec.decode(cursor, 'list:u1'), position);
    const refusals: string[] = [];
    for (let i = 0; i < cursor.length; i++) {
      if (cursor[i] === '.') continue;
      for (const bad of [flip(cursor, i), cursor.slice(0, i)]) {
        await codec.decode(bad, 'list:u1').then(
          () => refusals.push(`accepted ${bad}`),
          (err: { status?: number; errors?: { path: string }[] }) => {
            if (err.status !== 422 || err.errors?.[0]?.path !== 'cursor') refusals.push(`wrong error for ${bad}: ${String(err)}`);
          },
        );
      }
    }
    assert.deepEqual(refusals, []);
  });

  it('page() serves `limit` rows and a cursor after the last of them only when a row more was fetched', async () => {
    const codec = await createCursorCodec(key(7));
    const rows = [{ n: 1 }, { n: 2 }, { n: 3 }];
    const positionOf = (row: { n: number }) => ({ n: row.n });
    const more = await page(rows, { limit: 2, codec, scope: 's', positionOf });
    const typed: { n: number }[] = more.items;
    assert.deepEqual(typed, [{ n: 1 }, { n: 2 }]);
    assert.deepEqual(await codec.decode(more.nextCursor!, 's'), { n: 2 }, 'the position of the last item served');
    for (const limit of [3, 4]) assert.equal((await page(rows, { limit, codec, scope: 's', positionOf })).nextCursor, null);
    const mapped = await page(rows, { limit: 1, codec, scope: 's', positionOf, map: (row) => `#${row.n}` });
    const strings: string[] = mapped.items;
    assert.deepEqual(strings, ['#1']);
    assert.deepEqual(await page([], { limit: 5, codec, scope: 's', positionOf }), { items: [], nextCursor: null });
    await assert.rejects(page(rows, { limit: 0, codec, scope: 's', positionOf }), RangeError);
  });

  it('binds the scope and the key, checks the position schema, and refuses oversized positions', async () => {
    const codec = await createCursorCodec(key(7));
    const cursor = await codec.encode({ id: 1 }, 'list:u1');
    // Scope "list:1" with position 23 and scope "list:12" with position 3 are the same bytes run
    // together: the scope's length is signed too, so the mac of one does not fit the other.
    const mac23 = (await codec.encode(23, 'list:1')).split('.')[1];
    const spliced = `${Buffer.from('3').toString('base64url')}.${mac23}`;
    const other = await createCursorCodec(key(8));
    // Each attempt starts only when assert.rejects awaits it, so no rejection goes unhandled meanwhile.
    for (const [what, attempt] of [
      ['another scope', () => codec.decode(cursor, 'list:u2')],
      ['a scope that runs into the payload', () => codec.decode(spliced, 'list:12')],
      ['another key', () => other.decode(cursor, 'list:u1')],
      ['a position of another shape', () => codec.decode(cursor, 'list:u1', v.object({ id: v.string() }))],
    ] as const) {
      await assert.rejects(attempt, (err: { status?: number; code?: string }) => err.status === 422 && err.code === 'validation_failed', what);
    }
    assert.deepEqual(await codec.decode(cursor, 'list:u1', v.object({ id: v.number() })), { id: 1 });
    await assert.rejects(codec.encode({ big: 'x'.repeat(2000) }, 'list:u1'), RangeError);
    await assert.rejects(createCursorCodec(new Uint8Array(16)), RangeError);
    const imported = await crypto.subtle.importKey('raw', key(7), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
    assert.deepEqual(await (await createCursorCodec(imported)).decode(cursor, 'list:u1'), { id: 1 }, 'a CryptoKey of the same bytes');
  });
});
