/**
 * The audit plugin on real PostgreSQL: `record` only inside a transaction and rolled back with
 * it, consecutive `seq` numbers under many concurrent writers, a table the database itself keeps
 * append-only (even for its owner, a superuser), a hash chain that names the first changed,
 * re-hashed or missing entry (`verify()` and `empulse audit verify`), censoring of secrets and
 * TINs, and `GET /v1/admin/audit` (roles, order, filters, cursors).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { configure, definePlugin, type JsonValue, type SqlExecutor } from '../core/index.ts';
import { createTestKernel, type TestKernel } from '../host/testing.ts';
import { auditServiceRef, type AuditEntry, type AuditEntryInput, type AuditService } from '../plugins/audit/contract.ts';
import { entryHash, type ChainedContent } from '../plugins/audit/chain.ts';
import { auditPlugin } from '../plugins/audit/index.ts';
import { authServiceRef } from '../plugins/auth/contract.ts';
import { authPlugin } from '../plugins/auth/index.ts';
import { emailPlugin } from '../plugins/email/index.ts';
import { expectProblem } from './support/expect-problem.ts';
import { linkToken, startMailbox, type Mailbox } from './support/mailbox.ts';

const APP = 'https://app.empulse.test';
const JWT_SECRET = 'audit-test-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const PASSWORD = 'correct horse battery staple';
const ENTRY_KEYS = ['action', 'actor', 'actorId', 'at', 'details', 'id', 'ip', 'reason', 'requestId', 'targetId', 'targetType'];

interface User {
  readonly id: string;
  readonly email: string;
  readonly headers: { readonly authorization: string };
}

interface Row {
  seq: string;
  id: string;
  actor: string;
  actor_id: string | null;
  action: string;
  target_type: string;
  target_id: string | null;
  reason: string | null;
  request_id: string | null;
  ip: string | null;
  details: Record<string, JsonValue>;
  prev_hash: string;
  hash: string;
}

/** A route that records one entry as the signed-in caller, in its own transaction, as admin actions do. */
const probePlugin = definePlugin({
  id: 'audit-probe',
  version: '1.0.0',
  requires: { audit: auditServiceRef, auth: authServiceRef },
  routes(router, ctx) {
    router.post('/v1/audit-probe', { auth: 'required' }, async (http) => {
      const principal = await ctx.services.auth.requireUser(http);
      const { audit } = ctx.services;
      http.body = await ctx.db.transactional((em) =>
        audit.record({ ...audit.requestActor(http, principal.user.id), action: 'probe.recorded', targetType: 'probe', targetId: 'p-1', reason: 'from a route' }, { em }),
      );
    });
  },
});

const plugins = (mailbox: Mailbox) => [
  authPlugin,
  configure(emailPlugin, { transport: 'smtp', smtpUrl: mailbox.url, publicAppUrl: APP, pollIntervalMs: 50, retryBaseDelayMs: 20 }),
  auditPlugin,
  probePlugin,
];

const entry = (over: Partial<AuditEntryInput> = {}): AuditEntryInput => ({
  actor: { kind: 'user', userId: randomUUID() },
  action: 'test.recorded',
  targetType: 'thing',
  targetId: null,
  reason: 'because',
  ...over,
});

/** Records entries in one transaction of the kernel's database, in order. */
async function recordAll(t: TestKernel, inputs: readonly AuditEntryInput[]): Promise<AuditEntry[]> {
  const audit = t.service(auditServiceRef);
  return t.kernel.database.transactional(async (em) => {
    const out: AuditEntry[] = [];
    for (const input of inputs) out.push(await audit.record(input, { em }));
    return out;
  });
}

/** A plain client on the kernel's database (the test user, `postgres`: superuser and the tables' owner). */
async function withPg<T>(t: TestKernel, work: (client: pg.Client) => Promise<T>): Promise<T> {
  assert.equal(t.database.driver, 'postgresql', 'these tests need PostgreSQL itself');
  const client = new pg.Client({ connectionString: t.database.driver === 'postgresql' ? t.database.url : '' });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Runs `sql` with the append-only triggers off (what an attacker with the owner's rights could do), then turns them on again. */
const tamper = (t: TestKernel, sql: string, params: unknown[] = []) =>
  withPg(t, async (client) => {
    await client.query('alter table audit_entries disable trigger audit_entries_no_update_delete');
    try {
      await client.query(sql, params);
    } finally {
      await client.query('alter table audit_entries enable trigger audit_entries_no_update_delete');
    }
  });

/** Runs `empulse audit verify` on the kernel, collecting what it prints. */
async function cliVerify(t: TestKernel, extra: string[] = []): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await t.kernel.runCommand(['audit', 'verify', ...extra], { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

describe('audit plugin', () => {
  let mailbox: Mailbox;
  let t: TestKernel;
  let audit: AuditService;
  let admin: User;
  let artist: User;
  let users = 0;

  const sql = (): SqlExecutor => t.kernel.database.orm.em.getConnection();
  const rows = async (where = 'true', params: unknown[] = []) =>
    (await sql().execute(`select * from audit_entries where ${where} order by seq`, params, 'all')) as Row[];
  const count = async () => Number(((await sql().execute('select count(*) as n from audit_entries', [], 'get')) as { n: string }).n);

  async function newUser(label: string): Promise<User> {
    const email = `${label}-${++users}@example.test`;
    assert.equal((await t.inject({ method: 'POST', url: '/v1/auth/register', payload: { email, password: PASSWORD, displayName: label } })).statusCode, 202);
    const token = linkToken(await mailbox.waitFor(email, /Confirm your email/), APP, '/verify-email');
    assert.equal((await t.inject({ method: 'POST', url: '/v1/auth/verify-email', payload: { token } })).statusCode, 200);
    const login = await t.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password: PASSWORD } });
    assert.equal(login.statusCode, 200, login.body);
    const pair = login.json() as { accessToken: string; user: { id: string } };
    return { id: pair.user.id, email, headers: { authorization: `Bearer ${pair.accessToken}` } };
  }

  before(async () => {
    mailbox = await startMailbox();
    t = await createTestKernel({ plugins: plugins(mailbox), env: { JWT_SECRET } });
    audit = t.service(auditServiceRef);
    admin = await newUser('admin');
    const auth = t.service(authServiceRef);
    // Roles are read per request: the admin's token carries on working.
    assert.equal((await t.kernel.database.transactional((em) => auth.setRole(admin.id, 'admin', { em }))).outcome, 'changed');
    artist = await newUser('artist');
  });
  after(async () => {
    await t?.close();
    await mailbox?.close();
  });

  describe('recording', () => {
    it('refuses to record outside a transaction, and writes nothing', async () => {
      const before = await count();
      await assert.rejects(audit.record(entry({ action: 'test.outside' }), { em: t.kernel.database.em() }), /inside the action's transaction/);
      assert.equal(await count(), before);
    });

    it('returns the entry as the API shows it, chained to the previous one', async () => {
      const actorId = randomUUID();
      const [first, second] = await recordAll(t, [
        entry({ actor: { kind: 'user', userId: actorId }, action: 'test.shape', targetId: 'x-1', requestId: 'req-1', ip: '10.0.0.1', details: { n: 1 } }),
        entry({ actor: { kind: 'cli' }, action: 'test.shape', targetType: 'other', reason: null }),
      ]);
      assert.deepEqual(Object.keys(first!).sort(), ENTRY_KEYS);
      assert.deepEqual({ ...first!, id: undefined, at: undefined }, {
        id: undefined,
        at: undefined,
        actorId,
        actor: 'user',
        action: 'test.shape',
        targetType: 'thing',
        targetId: 'x-1',
        reason: 'because',
        requestId: 'req-1',
        ip: '10.0.0.1',
        details: { n: 1 },
      });
      assert.match(first!.at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.deepEqual({ actor: second!.actor, actorId: second!.actorId, reason: second!.reason, requestId: second!.requestId, ip: second!.ip, details: second!.details }, {
        actor: 'cli',
        actorId: null,
        reason: null,
        requestId: null,
        ip: null,
        details: {},
      });
      const [a, b] = await rows('id in (?, ?)', [first!.id, second!.id]);
      assert.equal(Number(b!.seq), Number(a!.seq) + 1);
      assert.equal(b!.prev_hash, a!.hash, 'each entry carries the hash of the one before');
      assert.match(a!.hash, /^[0-9a-f]{64}$/);
    });

    it('records the caller, request id and client address of an API request (requestActor)', async () => {
      const res = await t.inject({ method: 'POST', url: '/v1/audit-probe', headers: { ...admin.headers, 'x-request-id': 'probe-request-42' } });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.headers['x-request-id'], 'probe-request-42');
      const recorded = res.json() as AuditEntry;
      const [row] = await rows('id = ?', [recorded.id]);
      assert.deepEqual(
        { actor: row!.actor, actor_id: row!.actor_id, action: row!.action, request_id: row!.request_id, ip: row!.ip },
        { actor: 'user', actor_id: admin.id, action: 'probe.recorded', request_id: 'probe-request-42', ip: '127.0.0.1' },
      );
    });

    it('rolls an entry back with its transaction, leaving no gap in the chain', async () => {
      const before = await count();
      await assert.rejects(
        t.kernel.database.transactional(async (em) => {
          await audit.record(entry({ action: 'test.rolled-back' }), { em });
          throw new Error('the action failed after its entry was written');
        }),
        /the action failed/,
      );
      assert.deepEqual(await rows('action = ?', ['test.rolled-back']), []);
      assert.equal(await count(), before);
      const [next] = await recordAll(t, [entry({ action: 'test.after-rollback' })]);
      const [row] = await rows('id = ?', [next!.id]);
      assert.equal(Number(row!.seq), before + 1, 'the next entry takes the seq the rolled-back one would have had');
      assert.deepEqual(await audit.verify(), { ok: true, entries: before + 1 });
    });

    it('gives 200 entries from 20 concurrent transactions consecutive seq numbers, one transaction after another, and a valid chain', async () => {
      const before = await count();
      const run = `conc-${randomUUID()}`;
      const writers = Array.from({ length: 20 }, (_, w) =>
        t.kernel.database.transactional(async (em) => {
          for (let i = 0; i < 10; i++) await audit.record(entry({ action: 'test.concurrent', targetId: `${run}-${w}`, details: { i } }), { em });
        }),
      );
      // Writers whose transaction rolls back, racing with the others: they leave nothing behind.
      const losers = Array.from({ length: 5 }, () =>
        t.kernel.database.transactional(async (em) => {
          await audit.record(entry({ action: 'test.concurrent-rolled-back' }), { em });
          await audit.record(entry({ action: 'test.concurrent-rolled-back' }), { em });
          throw new Error('rolled back on purpose');
        }),
      );
      const settled = await Promise.allSettled([...writers, ...losers]);
      assert.deepEqual(
        settled.map((s) => s.status),
        [...Array<string>(20).fill('fulfilled'), ...Array<string>(5).fill('rejected')],
      );
      const all = await rows();
      assert.equal(all.length, before + 200);
      assert.deepEqual(
        all.map((r) => Number(r.seq)),
        Array.from({ length: all.length }, (_, i) => i + 1),
        'seq runs 1..n without gaps or repeats',
      );
      assert.deepEqual(await rows('action = ?', ['test.concurrent-rolled-back']), []);
      // The chain lock is held until each transaction ends: a writer's ten entries are contiguous.
      const mine = all.filter((r) => r.target_id?.startsWith(run));
      assert.equal(mine.length, 200);
      for (let w = 0; w < 20; w++) {
        const seqs = mine.filter((r) => r.target_id === `${run}-${w}`).map((r) => Number(r.seq));
        assert.equal(seqs.length, 10);
        assert.equal(seqs.at(-1)! - seqs[0]!, 9, `writer ${w}'s entries are consecutive: ${seqs.join(',')}`);
        assert.deepEqual(
          mine.filter((r) => r.target_id === `${run}-${w}`).map((r) => r.details.i),
          [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        );
      }
      assert.deepEqual(await audit.verify(), { ok: true, entries: before + 200 });
    });
  });

  describe('append-only table', () => {
    it('is owned by the test user, a superuser (so the refusals below bind the owner too)', async () => {
      await withPg(t, async (client) => {
        const { rows: [who] } = await client.query<{ rolsuper: boolean; owner: string; me: string }>(
          `select r.rolsuper, t.tableowner as owner, current_user as me from pg_roles r, pg_tables t
            where r.rolname = current_user and t.tablename = 'audit_entries'`,
        );
        assert.equal(who!.rolsuper, true, `${who!.me} is a superuser`);
        assert.equal(who!.owner, who!.me, 'and owns audit_entries');
      });
    });

    for (const [op, statement] of [
      ['UPDATE', "update audit_entries set reason = 'rewritten' where seq = 1"],
      ['DELETE', 'delete from audit_entries where seq = 1'],
      ['TRUNCATE', 'truncate audit_entries'],
    ] as const) {
      it(`refuses ${op} with the trigger's error, even for the owner`, async () => {
        const before = await rows();
        assert.ok(before.length > 0, 'there are entries to refuse changes to');
        await withPg(t, async (client) => {
          await assert.rejects(client.query(statement), (err: Error & { code?: string }) => {
            assert.equal(err.message, `audit_entries is append-only: ${op} refused`);
            assert.equal(err.code, '42501', 'insufficient_privilege');
            return true;
          });
        });
        assert.deepEqual(await rows(), before, 'nothing changed');
      });
    }

    it('accepts new entries after those refusals, with the chain intact', async () => {
      const n = await count();
      await recordAll(t, [entry({ action: 'test.after-refusals' })]);
      assert.deepEqual(await audit.verify(), { ok: true, entries: n + 1 });
    });
  });

  describe('censoring', () => {
    it('stores secret-named fields and TIN-shaped numbers redacted, in details and in the reason', async () => {
      const [recorded] = await recordAll(t, [
        entry({
          action: 'test.censored',
          reason: 'checked the W-9 with TIN 123-45-6789 on file',
          details: {
            password: 'hunter2 hunter2 hunter2',
            token: 'tok_abcdef0123456789',
            tin: '987654321',
            note: 'the form says 123-45-6789',
            nested: { apiKey: 'sk_live_secret', ein: '12-3456789', kept: 'plain words' },
            list: ['123456789', 'fine'],
            count: 3,
            // Nine digits inside hex identifiers are not TINs.
            ids: ['01a23ab7-8ed0-7640-90a6-b1a967555335', 'c0ffee111222333aa'],
          },
        }),
      ]);
      const expected = {
        password: '[redacted]',
        token: '[redacted]',
        tin: '[redacted]',
        note: 'the form says [tin redacted]',
        nested: { apiKey: '[redacted]', ein: '[redacted]', kept: 'plain words' },
        list: ['[tin redacted]', 'fine'],
        count: 3,
        ids: ['01a23ab7-8ed0-7640-90a6-b1a967555335', 'c0ffee111222333aa'],
      };
      assert.deepEqual(recorded!.details, expected);
      assert.equal(recorded!.reason, 'checked the W-9 with TIN [tin redacted] on file');
      // The raw row: what a DBA or a backup holds.
      const [row] = await rows('id = ?', [recorded!.id]);
      assert.deepEqual(row!.details, expected);
      assert.equal(row!.reason, 'checked the W-9 with TIN [tin redacted] on file');
      const raw = (await sql().execute('select t::text as text from audit_entries t where id = ?', [recorded!.id], 'get')) as { text: string };
      for (const secret of ['123-45-6789', '987654321', '123456789', 'hunter2', 'tok_abcdef', 'sk_live', '3456789']) {
        assert.ok(!raw.text.includes(secret), `the stored row holds no ${secret}: ${raw.text}`);
      }
      // What was hashed is what was stored: the chain still verifies.
      assert.equal((await audit.verify()).ok, true);
    });
  });

  describe('GET /v1/admin/audit', () => {
    const list = (by: User | undefined, query = '') =>
      t.inject({ method: 'GET', url: `/v1/admin/audit${query}`, ...(by && { headers: by.headers }) });
    const items = (res: { json(): unknown }) => (res.json() as { items: AuditEntry[] }).items;

    it('answers 401 with WWW-Authenticate: Bearer to anonymous callers and 403 to artists', async () => {
      for (const query of ['', '?limit=5', `?actorId=${admin.id}`]) {
        const anonymous = await list(undefined, query);
        expectProblem(anonymous, 401, 'unauthenticated');
        assert.equal(anonymous.headers['www-authenticate'], 'Bearer');
        expectProblem(await list(artist, query), 403, 'forbidden');
      }
      expectProblem(await list({ ...artist, headers: { authorization: 'Bearer not.a.token' } }), 401, 'unauthenticated');
    });

    it('answers 200 to an admin: entries in the documented shape, newest first, not cached', async () => {
      const action = `test.order-${randomUUID()}`;
      const recorded = await recordAll(t, [1, 2, 3].map((n) => entry({ action, targetId: `o-${n}`, details: { n } })));
      const res = await list(admin, `?action=${action}`);
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.headers['cache-control'], 'no-store');
      const body = res.json() as { items: AuditEntry[]; nextCursor: string | null };
      assert.equal(body.nextCursor, null);
      assert.deepEqual(body.items, [...recorded].reverse());
      assert.deepEqual(Object.keys(body.items[0]!).sort(), ENTRY_KEYS);
      // Unfiltered, the newest entry of the whole log comes first.
      const [newest] = items(await list(admin, '?limit=1'));
      assert.equal(newest!.id, recorded[2]!.id);
    });

    it('filters by actorId, action and targetId, alone and combined', async () => {
      const run = randomUUID().slice(0, 8);
      const alice = randomUUID();
      const bob = randomUUID();
      const [a1, a2, b1, b2] = await recordAll(t, [
        entry({ actor: { kind: 'user', userId: alice }, action: `f.${run}.locked`, targetId: `u-${run}-1` }),
        entry({ actor: { kind: 'user', userId: alice }, action: `f.${run}.unlocked`, targetId: `u-${run}-2` }),
        entry({ actor: { kind: 'user', userId: bob }, action: `f.${run}.locked`, targetId: `u-${run}-2` }),
        entry({ actor: { kind: 'cli' }, action: `f.${run}.locked`, targetId: `u-${run}-1` }),
      ]);
      const ids = async (query: string) => {
        const res = await list(admin, query);
        assert.equal(res.statusCode, 200, res.body);
        return items(res).map((e) => e.id);
      };
      assert.deepEqual(await ids(`?actorId=${alice}`), [a2!.id, a1!.id]);
      assert.deepEqual(await ids(`?actorId=${bob}`), [b1!.id]);
      assert.deepEqual(await ids(`?action=f.${run}.locked`), [b2!.id, b1!.id, a1!.id]);
      assert.deepEqual(await ids(`?targetId=u-${run}-2`), [b1!.id, a2!.id]);
      assert.deepEqual(await ids(`?actorId=${alice}&action=f.${run}.locked`), [a1!.id]);
      assert.deepEqual(await ids(`?actorId=${alice}&targetId=u-${run}-2&action=f.${run}.unlocked`), [a2!.id]);
      assert.deepEqual(await ids(`?actorId=${bob}&targetId=u-${run}-1`), []);
      assert.deepEqual(await ids(`?actorId=${randomUUID()}`), []);
    });

    it('walks more than one page with cursors, without duplicates or gaps, even while entries are added', async () => {
      const action = `test.page-${randomUUID()}`;
      const recorded = await recordAll(t, Array.from({ length: 45 }, (_, i) => entry({ action, details: { i } })));
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res = await list(admin, `?action=${action}&limit=10${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        assert.equal(res.statusCode, 200, res.body);
        const body = res.json() as { items: AuditEntry[]; nextCursor: string | null };
        pages++;
        assert.equal(body.items.length, pages < 5 ? 10 : 5);
        seen.push(...body.items.map((e) => e.id));
        cursor = body.nextCursor;
        // Newer entries written mid-walk do not shift the pages still to come.
        if (pages === 2) await recordAll(t, [entry({ action }), entry({ action })]);
      } while (cursor);
      assert.equal(pages, 5);
      assert.equal(new Set(seen).size, seen.length, 'no duplicates');
      assert.deepEqual(seen, recorded.map((e) => e.id).reverse(), 'every entry, newest first, no gaps');
    });

    it('refuses a cursor from another filter, an altered one, and a bad actorId with 422 naming the parameter', async () => {
      const action = `test.cursor-${randomUUID()}`;
      await recordAll(t, [entry({ action }), entry({ action }), entry({ action })]);
      const first = await list(admin, `?action=${action}&limit=2`);
      const cursor = (first.json() as { nextCursor: string }).nextCursor;
      assert.ok(cursor);
      assert.equal(items(await list(admin, `?action=${action}&limit=2&cursor=${cursor}`)).length, 1, 'the cursor works on its own list');
      for (const query of [`?limit=2&cursor=${cursor}`, `?action=test.other&limit=2&cursor=${cursor}`, `?action=${action}&targetId=x&cursor=${cursor}`]) {
        const problem = expectProblem(await list(admin, query), 422, 'validation_failed');
        assert.deepEqual(problem.errors?.map((e) => e.path), ['cursor'], query);
      }
      const altered = `${cursor.slice(0, -2)}${cursor.endsWith('AA') ? 'BB' : 'AA'}`;
      assert.deepEqual(expectProblem(await list(admin, `?action=${action}&cursor=${altered}`), 422, 'validation_failed').errors?.map((e) => e.path), ['cursor']);
      for (const bad of ['not-a-uuid', '123', `${admin.id}x`]) {
        assert.deepEqual(expectProblem(await list(admin, `?actorId=${bad}`), 422, 'validation_failed').errors?.map((e) => e.path), ['actorId']);
      }
      assert.deepEqual(expectProblem(await list(admin, '?limit=0'), 422, 'validation_failed').errors?.map((e) => e.path), ['limit']);
    });
  });

  describe('empulse audit verify', () => {
    it('exits 0 with the number of entries when the chain is intact', async () => {
      const n = await count();
      assert.ok(n > 200);
      assert.deepEqual(await cliVerify(t), { code: 0, out: [`audit log: ${n} entries, hash chain intact`], err: [] });
    });

    it('exits 2 with the usage on extra arguments', async () => {
      const result = await cliVerify(t, ['now']);
      assert.equal(result.code, 2);
      assert.deepEqual(result.err, ['usage: empulse audit verify']);
    });
  });
});

describe('audit plugin: tampering is detected', () => {
  let mailbox: Mailbox;
  before(async () => {
    mailbox = await startMailbox();
  });
  after(async () => {
    await mailbox?.close();
  });

  /** A fresh kernel (and database) with five entries, handed to `work`. */
  async function withFiveEntries(work: (t: TestKernel, entries: AuditEntry[]) => Promise<void>): Promise<void> {
    const t = await createTestKernel({ plugins: plugins(mailbox), env: { JWT_SECRET } });
    try {
      const entries = await recordAll(t, [1, 2, 3, 4, 5].map((n) => entry({ action: 'test.tamper', targetId: `t-${n}`, reason: `reason ${n}`, details: { n } })));
      assert.deepEqual(await t.service(auditServiceRef).verify(), { ok: true, entries: 5 });
      await work(t, entries);
    } finally {
      await t.close();
    }
  }

  it('names exactly the entry whose reason or details were changed (verify and the CLI), and accepts it once restored', async () => {
    await withFiveEntries(async (t, entries) => {
      const audit = t.service(auditServiceRef);
      const third = entries[2]!;
      await tamper(t, "update audit_entries set reason = 'nothing to see' where id = $1", [third.id]);
      const result = await audit.verify();
      assert.equal(result.ok, false);
      assert.ok(!result.ok);
      assert.equal(result.entries, 2, 'the two entries before it are intact');
      assert.equal(result.brokenAt.seq, 3);
      assert.equal(result.brokenAt.id, third.id);
      assert.match(result.brokenAt.problem, /hash does not match its content/);

      const cli = await cliVerify(t);
      assert.equal(cli.code, 1);
      assert.deepEqual(cli.out, []);
      assert.equal(cli.err.length, 1);
      assert.match(cli.err[0]!, new RegExp(`entry #3 \\(${third.id}\\) is broken`));
      assert.match(cli.err[0]!, /the 2 entries before it are intact/);

      // The same content again: the chain verifies (the hash covers the content, nothing else).
      await tamper(t, 'update audit_entries set reason = $2 where id = $1', [third.id, 'reason 3']);
      assert.deepEqual(await audit.verify(), { ok: true, entries: 5 });
      assert.equal((await cliVerify(t)).code, 0);

      const fourth = entries[3]!;
      await tamper(t, `update audit_entries set details = '{"n": 40}'::jsonb where id = $1`, [fourth.id]);
      assert.deepEqual(await audit.verify(), {
        ok: false,
        entries: 3,
        brokenAt: { seq: 4, id: fourth.id, problem: 'its hash does not match its content (the entry was changed)' },
      });
    });
  });

  it('detects a changed entry whose own hash was recomputed, at the following entry', async () => {
    await withFiveEntries(async (t, entries) => {
      const second = entries[1]!;
      const content: ChainedContent = {
        seq: 2,
        id: second.id,
        at: new Date(second.at),
        actor: second.actor,
        actorId: second.actorId,
        action: second.action,
        targetType: second.targetType,
        targetId: second.targetId,
        reason: 'a forged reason',
        requestId: second.requestId,
        ip: second.ip,
        details: second.details,
        prevHash: ((await t.kernel.database.orm.em.getConnection().execute('select hash from audit_entries where seq = 1', [], 'get')) as { hash: string }).hash,
      };
      await tamper(t, 'update audit_entries set reason = $2, hash = $3 where id = $1', [second.id, content.reason, await entryHash(content)]);
      const result = await t.service(auditServiceRef).verify();
      assert.deepEqual(result, {
        ok: false,
        entries: 2,
        brokenAt: { seq: 3, id: entries[2]!.id, problem: 'its link to the previous entry does not match (an entry before it was changed or removed)' },
      });
    });
  });

  it('detects a deleted middle entry at the entry that follows it', async () => {
    await withFiveEntries(async (t, entries) => {
      await tamper(t, 'delete from audit_entries where seq = 3');
      const result = await t.service(auditServiceRef).verify();
      assert.deepEqual(result, {
        ok: false,
        entries: 2,
        brokenAt: { seq: 4, id: entries[3]!.id, problem: 'expected entry #3 next, found #4 (entries are missing)' },
      });
      const cli = await cliVerify(t);
      assert.equal(cli.code, 1);
      assert.match(cli.err.join('\n'), new RegExp(`entry #4 \\(${entries[3]!.id}\\) is broken: expected entry #3 next`));
    });
  });

  it('detects a deleted middle entry even when the later seq numbers were shifted down to hide the gap', async () => {
    await withFiveEntries(async (t, entries) => {
      await tamper(t, 'delete from audit_entries where seq = 3');
      await tamper(t, 'update audit_entries set seq = 3 where seq = 4');
      await tamper(t, 'update audit_entries set seq = 4 where seq = 5');
      const result = await t.service(auditServiceRef).verify();
      assert.equal(result.ok, false);
      assert.ok(!result.ok);
      assert.equal(result.brokenAt.id, entries[3]!.id, 'the entry after the gap');
      assert.equal(result.brokenAt.seq, 3);
    });
  });
});
