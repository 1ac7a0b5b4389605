/**
 * The back-office figures (admin, audit and artists plugins):
 *
 * 1. Admin user search over 100,000 accounts: `GET /v1/admin/users` through HTTP with an admin's
 *    bearer token (the bench server, bench/servers/empulse.ts, with the plugins of
 *    empulse.config.ts), for an email fragment matching one account, a display-name fragment, a
 *    role filter without `q`, and the second page (cursor) of the display-name search. Each is
 *    given as a ratio to `GET /v1/me` on the same server with the same token, measured in the same
 *    run. The accounts are seeded with one `insert … select … generate_series` after the server
 *    has migrated; the admin registers through the API (a real argon2 hash to log in with). The
 *    indexes on auth_users and the plan of the back-office query (the SQL auth's BackOffice
 *    sends, captured, then EXPLAINed) show whether the trigram indexes serve the search.
 * 2. Audit writes per second: 20 writers, each looping `db.transactional(em => audit.record(…))`
 *    in a kernel booted in this process (email with the outbox transport, auth, audit), then
 *    `verify()` walks the whole chain. The baseline, in the same run and database: the same 20
 *    writers inserting the same columns into a plain table (no lock, no predecessor read, no
 *    hash chain), one insert per transaction.
 *
 * `npm run bench` runs it as one section; `node bench/back-office.ts` runs it alone.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';
import { configure, type Database } from '../core/index.ts';
import { createScratchDatabase, createTestKernel, freePort } from '../host/testing.ts';
import { auditServiceRef } from '../plugins/audit/contract.ts';
import { auditPlugin } from '../plugins/audit/index.ts';
import { BackOffice } from '../plugins/auth/back-office.ts';
import type { AccountQuery } from '../plugins/auth/contract.ts';
import { authPlugin } from '../plugins/auth/index.ts';
import { emailPlugin } from '../plugins/email/index.ts';
import { SERVER_NODE_FLAGS } from './server-flags.ts';

export const SEARCH_USERS = 100_000;
const SEARCH_CONNECTIONS = 10;
const WRITERS = 20;
const PASSWORD = 'bench horse battery staple';
const NAME_WORDS = ['Nova', 'Echo', 'Velvet', 'Lumen', 'Cobalt', 'Saffron', 'Indigo', 'Marlow'];
/** Matches one seeded account (user77777@label86.test): the email trigram index's case. */
const EMAIL_FRAGMENT = 'user77777@';
/** Matches one account in eight (12,500), spread evenly from the newest: a page comes from a short newest-first walk. */
const NAME_FRAGMENT = 'saffron';
const here = import.meta.dirname;

export interface Run {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly non2xx: number;
  readonly errors: number;
}

export interface SearchRun extends Run {
  readonly name: string;
  /** Accounts on the page the run fetched (checked once before the run). */
  readonly items: number;
}

export interface PlanNode {
  readonly depth: number;
  readonly label: string;
}

export interface BackOfficeFigures {
  readonly seconds: number;
  readonly seedSeconds: number;
  readonly me: Run;
  readonly searches: readonly SearchRun[];
  readonly indexes: readonly { readonly name: string; readonly definition: string }[];
  readonly plans: readonly { readonly what: string; readonly nodes: readonly PlanNode[] }[];
  readonly audit: AuditFigures;
}

export interface WriteRun {
  readonly writes: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly failures: number;
}

export interface AuditFigures {
  readonly chained: WriteRun;
  readonly plain: WriteRun;
  readonly verify: { readonly ok: boolean; readonly entries: number; readonly ms: number; readonly problem?: string };
}

export async function benchBackOffice(durationS = Number(process.env.BENCH_DURATION ?? 8)): Promise<BackOfficeFigures> {
  // Five HTTP runs: half the bench duration each keeps the section near a minute in all.
  const searchS = Math.max(1, Math.round(durationS / 2));
  const scratch = await createScratchDatabase();
  // The server's data directory: where its outbox transport writes the admin's verification email.
  const dataDir = mkdtempSync(join(tmpdir(), 'empulse-bench-back-office-'));
  try {
    const search = await withServer({ DATABASE_URL: scratch.url, DATA_DIR: dataDir, LOG_LEVEL: 'warn' }, (url) => benchSearch(url, scratch.url, searchS));
    const audit = await benchAudit(durationS);
    return { seconds: searchS, ...search, audit };
  } finally {
    await scratch.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function benchSearch(baseUrl: string, databaseUrl: string, durationS: number): Promise<Omit<BackOfficeFigures, 'audit' | 'seconds'>> {
  const email = 'bench-admin@example.com';
  await post(`${baseUrl}/v1/auth/register`, { email, password: PASSWORD, displayName: 'Bench Admin' });
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    await db.query(`update auth_users set email_verified_at = now(), role = 'admin' where email_normalized = $1`, [email]);
    const seedStarted = performance.now();
    await db.query(
      `insert into auth_users (id, email, email_normalized, display_name, role, password_hash, email_verified_at, password_changed_at, created_at)
       select gen_random_uuid(), e, lower(e), ($2::text[])[1 + n % $3] || ' ' || n, case when n % 500 = 0 then 'admin' else 'artist' end,
              'x', now(), now(), now() - n * interval '1 second'
         from generate_series(1, $1::int) as n, lateral (select 'User' || n || '@Label' || (n % 97) || '.test' as e) as m`,
      [SEARCH_USERS, NAME_WORDS, NAME_WORDS.length],
    );
    await db.query('analyze auth_users');
    const seedSeconds = (performance.now() - seedStarted) / 1000;
    const { accessToken } = (await post(`${baseUrl}/v1/auth/login`, { email, password: PASSWORD })) as { accessToken: string };
    const headers = { authorization: `Bearer ${accessToken}` };

    const users = `${baseUrl}/v1/admin/users`;
    const byName = `${users}?q=${encodeURIComponent(NAME_FRAGMENT)}`;
    const first = (await get(byName, headers)) as { nextCursor: string | null };
    if (!first.nextCursor) throw new Error(`the display-name search (${byName}) has no second page`);
    const cases = [
      { name: `email fragment, q=${EMAIL_FRAGMENT} (1 match)`, url: `${users}?q=${encodeURIComponent(EMAIL_FRAGMENT)}` },
      { name: `display-name fragment, q=${NAME_FRAGMENT}`, url: byName },
      { name: 'role filter, role=admin, no q', url: `${users}?role=admin` },
      { name: `second page (cursor) of q=${NAME_FRAGMENT}`, url: `${byName}&cursor=${encodeURIComponent(first.nextCursor)}` },
    ];
    await run(cases[0]!.url, headers, 1); // warm-up
    const searches: SearchRun[] = [];
    for (const c of cases) {
      const items = ((await get(c.url, headers)) as { items: unknown[] }).items.length;
      searches.push({ name: c.name, items, ...(await run(c.url, headers, durationS)) });
    }
    const me = await run(`${baseUrl}/v1/me`, headers, durationS);

    const indexes = (
      await db.query<{ indexname: string; indexdef: string }>(`select indexname, indexdef from pg_indexes where tablename = 'auth_users' order by indexname`)
    ).rows.map((r) => ({ name: r.indexname, definition: r.indexdef }));
    // The second page starts after the first page's last account (what its cursor carries).
    const last = (
      await db.query<{ created_key: string; id: string }>(
        `select created_at::text as created_key, id from auth_users where lower(display_name) like $1 order by created_at desc, id desc offset 19 limit 1`,
        [`%${NAME_FRAGMENT}%`],
      )
    ).rows[0]!;
    const plans = [
      { what: `q=${EMAIL_FRAGMENT}`, nodes: await explain(db, { q: EMAIL_FRAGMENT, limit: 21 }) },
      { what: `q=${NAME_FRAGMENT}`, nodes: await explain(db, { q: NAME_FRAGMENT, limit: 21 }) },
      { what: `q=${NAME_FRAGMENT}, second page`, nodes: await explain(db, { q: NAME_FRAGMENT, limit: 21, after: { createdAt: last.created_key, id: last.id } }) },
    ];
    return { seedSeconds, me, searches, indexes, plans };
  } finally {
    await db.end();
  }
}

/**
 * The plan of the exact statement auth's BackOffice sends for `query` (captured from a stand-in
 * connection, its `?` placeholders numbered for pg), as node names with their relation or index.
 */
async function explain(db: pg.Client, query: AccountQuery): Promise<PlanNode[]> {
  let captured: { sql: string; params: unknown[] } | undefined;
  const capture = {
    em: () => ({
      getConnection: () => ({
        execute: async (sql: string, params: unknown[]) => {
          captured = { sql, params };
          return [];
        },
      }),
    }),
  } as unknown as Database;
  await new BackOffice(capture).list(query);
  if (!captured) throw new Error('BackOffice.list sent no statement');
  let n = 0;
  const sql = captured.sql.replace(/\?/g, () => `$${++n}`);
  const result = await db.query<{ 'QUERY PLAN': [{ Plan: RawPlan }] }>(`explain (format json) ${sql}`, captured.params);
  const nodes: PlanNode[] = [];
  const walk = (plan: RawPlan, depth: number): void => {
    const backward = plan['Scan Direction'] === 'Backward' ? ' Backward' : '';
    const on = plan['Index Name'] ? `${backward} using ${plan['Index Name']}` : plan['Relation Name'] ? ` on ${plan['Relation Name']}` : '';
    const role = plan['Subplan Name'] ? ` (${plan['Subplan Name']})` : '';
    nodes.push({ depth, label: `${plan['Node Type']}${on}${role}` });
    for (const child of plan.Plans ?? []) walk(child, depth + 1);
  };
  walk(result.rows[0]!['QUERY PLAN'][0].Plan, 0);
  return nodes;
}

interface RawPlan {
  readonly 'Node Type': string;
  readonly 'Relation Name'?: string;
  readonly 'Index Name'?: string;
  readonly 'Subplan Name'?: string;
  readonly 'Scan Direction'?: string;
  readonly Plans?: readonly RawPlan[];
}

async function benchAudit(durationS: number): Promise<AuditFigures> {
  const scratch = await createScratchDatabase();
  const outboxDir = mkdtempSync(join(tmpdir(), 'empulse-bench-outbox-'));
  try {
    const t = await createTestKernel({
      plugins: [configure(emailPlugin, { transport: 'outbox', outboxDir }), authPlugin, auditPlugin],
      env: { JWT_SECRET: 'bench-secret-bench-secret-bench-secret-0123' },
      // One connection per writer (and one spare), so the writers queue on the chain's lock, not the pool.
      database: { driver: 'postgresql', url: scratch.url, poolMax: WRITERS + 1 },
    });
    try {
      const db = t.kernel.database;
      const audit = t.service(auditServiceRef);
      const actor = { kind: 'user', userId: randomUUID() } as const;
      const entry = (writer: number, n: number) => ({
        actor,
        action: 'bench.recorded',
        targetType: 'bench',
        targetId: `w${writer}-${n}`,
        reason: 'bench',
        requestId: randomUUID(),
        ip: '127.0.0.1',
        details: { writer, n },
      });
      const chained = await writers(durationS, (writer, n) => db.transactional((em) => audit.record(entry(writer, n), { em })));

      await db.em().getConnection().execute('create table bench_plain_entries (like audit_entries including all)');
      await db.em().getConnection().execute('create sequence bench_plain_entries_seq');
      const plain = await writers(durationS, (writer, n) =>
        db.transactional(async (em) => {
          const e = entry(writer, n);
          const details = JSON.stringify(e.details);
          const at = new Date();
          const hash = createHash('sha256').update(`${e.targetId}|${at.toISOString()}|${details}`).digest('hex');
          await em.getConnection().execute(
            `insert into bench_plain_entries (seq, id, at, actor, actor_id, action, target_type, target_id, reason, request_id, ip, details, prev_hash, hash)
             values (nextval('bench_plain_entries_seq'), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?, ?)`,
            [randomUUID(), at, e.actor.kind, e.actor.userId, e.action, e.targetType, e.targetId, e.reason, e.requestId, e.ip, details, '0'.repeat(64), hash],
            'run',
            em.getTransactionContext(),
          );
        }),
      );

      const started = performance.now();
      const result = await audit.verify();
      const ms = performance.now() - started;
      const verify = result.ok
        ? { ok: true, entries: result.entries, ms }
        : { ok: false, entries: result.entries, ms, problem: `entry #${result.brokenAt.seq}: ${result.brokenAt.problem}` };
      return { chained, plain, verify };
    } finally {
      await t.close();
    }
  } finally {
    await scratch.drop();
    rmSync(outboxDir, { recursive: true, force: true });
  }
}

/** WRITERS loops, each awaiting one write after another until `durationS` has passed. */
async function writers(durationS: number, write: (writer: number, n: number) => Promise<unknown>): Promise<WriteRun> {
  const latencies: number[] = [];
  let failures = 0;
  const started = performance.now();
  const deadline = started + durationS * 1000;
  await Promise.all(
    Array.from({ length: WRITERS }, async (_, writer) => {
      for (let n = 0; performance.now() < deadline; n++) {
        const t0 = performance.now();
        try {
          await write(writer, n);
          latencies.push(performance.now() - t0);
        } catch (err) {
          if (++failures === 1) console.error('bench/back-office: a write failed:', err);
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  return { writes: latencies.length, seconds, perSecond: latencies.length / seconds, p50Ms: at(0.5), p99Ms: at(0.99), failures };
}

export function printBackOffice(f: BackOfficeFigures): void {
  console.log(
    `\n| admin user search, ${SEARCH_USERS.toLocaleString('en')} accounts (seeded in ${f.seedSeconds.toFixed(1)} s), ${SEARCH_CONNECTIONS} clients, ${f.seconds} s per run | items | req/s | p50 ms | p99 ms | ratio to GET /v1/me |`,
  );
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const s of f.searches) {
    console.log(`| GET /v1/admin/users, ${s.name} | ${s.items} | ${s.rps.toFixed(0)} | ${s.p50} | ${s.p99} | ${(s.rps / f.me.rps).toFixed(2)} |`);
  }
  console.log(`| GET /v1/me (same server, same token) | | ${f.me.rps.toFixed(0)} | ${f.me.p50} | ${f.me.p99} | 1.00 |`);
  for (const r of [...f.searches, f.me]) {
    if (r.errors || r.non2xx) console.log(`warning: ${r.errors} errors, ${r.non2xx} non-2xx responses in a run`);
  }
  console.log('\n| index on auth_users | definition |');
  console.log('|---|---|');
  for (const i of f.indexes) console.log(`| ${i.name} | \`${i.definition}\` |`);
  for (const p of f.plans) {
    const trigram = p.nodes.some((n) => /_trgm_index/.test(n.label));
    console.log(`\nplan of the back-office query for ${p.what} (EXPLAIN (FORMAT JSON)), trigram index ${trigram ? 'used' : 'not used'}:`);
    for (const n of p.nodes) console.log(`    ${'  '.repeat(n.depth)}${n.label}`);
  }

  const { chained, plain, verify } = f.audit;
  console.log(`\n| audit writes, ${WRITERS} concurrent writers, one entry per transaction | entries | entries/s | p50 ms | p99 ms | ratio to plain inserts |`);
  console.log('|---|---:|---:|---:|---:|---:|');
  const wrow = (name: string, r: WriteRun) =>
    console.log(`| ${name} | ${r.writes} | ${r.perSecond.toFixed(0)} | ${r.p50Ms.toFixed(1)} | ${r.p99Ms.toFixed(1)} | ${(r.perSecond / plain.perSecond).toFixed(2)} |`);
  wrow('audit.record (exclusive lock, hash chain)', chained);
  wrow('plain insert, same columns and indexes, no chain', plain);
  for (const r of [chained, plain]) if (r.failures) console.log(`warning: ${r.failures} failed writes in a run`);
  console.log(
    `\naudit verify(): ${verify.entries} entries verified in ${verify.ms.toFixed(0)} ms, ${verify.ok ? 'chain intact' : `BROKEN at ${verify.problem}`}` +
      `${verify.entries === chained.writes ? '' : ` (expected ${chained.writes} entries)`}`,
  );
}

async function run(url: string, headers: Record<string, string>, duration: number): Promise<Run> {
  const result = await autocannon({ url, headers, connections: SEARCH_CONNECTIONS, duration });
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx, errors: result.errors + result.timeouts };
}

async function get(url: string, headers: Record<string, string>): Promise<unknown> {
  const res = await fetch(url, { headers });
  if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  return res.json();
}

async function post(url: string, body: unknown): Promise<unknown> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  return res.status === 204 ? undefined : res.json();
}

/** The bench server (bench/servers/empulse.ts) in a process of its own, as bench/run.ts starts it. */
async function withServer<T>(env: Record<string, string>, work: (url: string) => Promise<T>): Promise<T> {
  const port = await freePort();
  const child = fork(join(here, 'servers', 'empulse.ts'), [], {
    env: { ...process.env, ...env, PORT: String(port) },
    execArgv: [...process.execArgv, ...SERVER_NODE_FLAGS],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`servers/empulse.ts exited with ${code} before it was ready`)));
  });
  try {
    return await work(`http://127.0.0.1:${port}`);
  } finally {
    await stop(child);
  }
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    if (child.connected) child.send('stop');
    setTimeout(() => child.kill('SIGKILL'), 3000).unref();
    if (!child.connected) child.kill('SIGTERM');
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  printBackOffice(await benchBackOffice());
}
