/**
 * The admin plugin through HTTP and its CLI command, on real PostgreSQL with the real auth, email
 * (SMTP to a test mailbox), audit and lockout plugins (API.md "admin plugin"): the first admin
 * made with `empulse users set-role`, 401/403 on every route, the user search and its cursors,
 * AdminUser, role changes that revoke sessions and never leave the label without an admin (also
 * when two admins demote each other at once), administrators' locks (indefinite and timed) and
 * unlocks, session revocation, exactly one audit entry per action and none for a refused one,
 * and lock/unlock answering 404 without the lockout plugin.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Response } from 'light-my-request';
import pg from 'pg';
import { configure, type JsonValue, type SqlExecutor } from '../core/index.ts';
import { createTestKernel, type TestKernel } from '../host/testing.ts';
import { adminPlugin } from '../plugins/admin/index.ts';
import { auditPlugin } from '../plugins/audit/index.ts';
import { authPlugin } from '../plugins/auth/index.ts';
import { emailPlugin } from '../plugins/email/index.ts';
import { lockoutPlugin } from '../plugins/lockout/index.ts';
import { expectProblem } from './support/expect-problem.ts';
import { linkToken, startMailbox, type Mailbox } from './support/mailbox.ts';
import { until } from './support/until.ts';

const APP = 'https://app.empulse.test';
const JWT_SECRET = 'admin-test-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const PASSWORD = 'correct horse battery staple';
const UNKNOWN_ID = '01890000-0000-7000-8000-000000000000';
const ADMIN_USER_KEYS = ['activeSessions', 'createdAt', 'displayName', 'email', 'emailVerified', 'id', 'lastLoginAt', 'locked', 'lockedUntil', 'role'];

interface AdminUser {
  id: string;
  email: string;
  displayName: string;
  role: 'artist' | 'admin';
  emailVerified: boolean;
  createdAt: string;
  lastLoginAt: string | null;
  locked: boolean;
  lockedUntil: string | null;
  activeSessions: number;
}

interface TokenPair {
  accessToken: string;
  refreshToken: string;
  user: { id: string; role: string };
}

interface User {
  readonly id: string;
  readonly email: string;
  readonly headers: { authorization: string };
  readonly refreshToken: string;
}

interface AuditRow {
  seq: string;
  actor: string;
  actor_id: string | null;
  action: string;
  target_type: string;
  target_id: string | null;
  reason: string | null;
  request_id: string | null;
  ip: string | null;
  details: Record<string, JsonValue>;
}

const plugins = (mailbox: Mailbox, { lockout = true } = {}) => [
  authPlugin,
  configure(emailPlugin, { transport: 'smtp', smtpUrl: mailbox.url, publicAppUrl: APP, pollIntervalMs: 50, retryBaseDelayMs: 20 }),
  auditPlugin,
  ...(lockout ? [lockoutPlugin] : []),
  adminPlugin,
];

const bearer = (accessToken: string) => ({ authorization: `Bearer ${accessToken}` });

/** Accounts, requests and audit reads bound to one test kernel. */
function client(kernel: () => TestKernel, mailbox: () => Mailbox) {
  let n = 0;
  const t = () => kernel();
  const sql = (): SqlExecutor => t().kernel.database.orm.em.getConnection();

  const register = async (email: string, displayName = 'Some User') => {
    const res = await t().inject({ method: 'POST', url: '/v1/auth/register', payload: { email, password: PASSWORD, displayName } });
    assert.equal(res.statusCode, 202, res.body);
  };
  const verify = async (email: string) => {
    const token = linkToken(await mailbox().waitFor(email, /Confirm your email/), APP, '/verify-email');
    const res = await t().inject({ method: 'POST', url: '/v1/auth/verify-email', payload: { token } });
    assert.equal(res.statusCode, 200, res.body);
    return (res.json() as { user: { id: string } }).user.id;
  };
  const loginRaw = (email: string, password = PASSWORD) => t().inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password } });
  const login = async (email: string, password = PASSWORD): Promise<User> => {
    const res = await loginRaw(email, password);
    assert.equal(res.statusCode, 200, res.body);
    const pair = res.json() as TokenPair;
    return { id: pair.user.id, email, headers: bearer(pair.accessToken), refreshToken: pair.refreshToken };
  };
  /** A unique email for `label`. */
  const emailFor = (label: string) => `${label}-${++n}@example.test`;
  /** A verified account, not signed in; resolves to its id and email. */
  const verifiedUser = async (label: string, displayName?: string) => {
    const email = emailFor(label);
    await register(email, displayName);
    return { id: await verify(email), email };
  };
  /** A verified, signed-in artist. */
  const newUser = async (label: string, displayName?: string): Promise<User> => login((await verifiedUser(label, displayName)).email);

  const cli = async (words: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await t().kernel.runCommand(words, { out: (l) => out.push(l), err: (l) => err.push(l) });
    return { code, out, err };
  };
  /** An admin made as operators do (`empulse users set-role`), signed in afresh (the command revoked their sessions). */
  const newAdmin = async (label: string): Promise<User> => {
    const { email } = await verifiedUser(label);
    const res = await cli(['users', 'set-role', email, 'admin']);
    assert.equal(res.code, 0, res.err.join('\n'));
    return login(email);
  };

  const me = (headers: object) => t().inject({ method: 'GET', url: '/v1/me', headers: headers as Record<string, string> });
  const getUser = (by: User, id: string) => t().inject({ method: 'GET', url: `/v1/admin/users/${id}`, headers: by.headers });
  const viewOf = async (by: User, id: string): Promise<AdminUser> => {
    const res = await getUser(by, id);
    assert.equal(res.statusCode, 200, res.body);
    return res.json() as AdminUser;
  };
  const listUsers = (by: User, query = '') => t().inject({ method: 'GET', url: `/v1/admin/users${query}`, headers: by.headers });
  const action = (by: User | undefined, method: 'GET' | 'PUT' | 'POST', url: string, payload?: object) =>
    t().inject({ method, url, ...(by && { headers: by.headers }), ...(payload !== undefined && { payload }) });
  const setRole = (by: User, id: string, payload: object) => action(by, 'PUT', `/v1/admin/users/${id}/role`, payload);
  const lock = (by: User, id: string, payload: object) => action(by, 'POST', `/v1/admin/users/${id}/lock`, payload);
  const unlock = (by: User, id: string, payload: object) => action(by, 'POST', `/v1/admin/users/${id}/unlock`, payload);
  const revoke = (by: User, id: string, payload: object) => action(by, 'POST', `/v1/admin/users/${id}/revoke-sessions`, payload);

  const lastSeq = async () => Number(((await sql().execute('select coalesce(max(seq), 0) as seq from audit_entries', [], 'get')) as { seq: string }).seq);
  const auditSince = async (seq: number) =>
    (await sql().execute('select * from audit_entries where seq > ? order by seq', [seq], 'all')) as AuditRow[];
  /** Exactly one entry since `seq`: the action `res` answered, by `by`, with its request id. */
  const expectAudited = async (seq: number, res: Response, by: User, expected: { action: string; targetId: string; reason: string }) => {
    const rows = await auditSince(seq);
    assert.equal(rows.length, 1, `one audit entry: ${JSON.stringify(rows)}`);
    const row = rows[0]!;
    assert.ok(res.headers['x-request-id']);
    assert.deepEqual(
      { actor: row.actor, actorId: row.actor_id, action: row.action, targetType: row.target_type, targetId: row.target_id, reason: row.reason, requestId: row.request_id },
      { actor: 'user', actorId: by.id, action: expected.action, targetType: 'user', targetId: expected.targetId, reason: expected.reason, requestId: res.headers['x-request-id'] },
    );
    assert.equal(row.ip, '127.0.0.1');
    return row;
  };
  const expectNotAudited = async (seq: number) => assert.deepEqual(await auditSince(seq), [], 'a refused action writes no audit entry');

  return { sql, register, verify, loginRaw, login, emailFor, verifiedUser, newUser, newAdmin, cli, me, getUser, viewOf, listUsers, action, setRole, lock, unlock, revoke, lastSeq, auditSince, expectAudited, expectNotAudited };
}

const expectUnauthenticated = (res: Response) => {
  expectProblem(res, 401, 'unauthenticated');
  assert.equal(res.headers['www-authenticate'], 'Bearer');
};

describe('admin plugin', () => {
  let mailbox: Mailbox;
  let t: TestKernel;
  const c = client(
    () => t,
    () => mailbox,
  );
  /** The first admin, made from the command line; the only admin until a test promotes someone. */
  let root: User;
  let rootCli: { code: number; out: string[]; err: string[] };
  let rootTokenBeforeCli: User;
  let seqBeforeCli: number;
  let artist: User;

  before(async () => {
    mailbox = await startMailbox();
    t = await createTestKernel({ plugins: plugins(mailbox), env: { JWT_SECRET } });
    const { email } = await c.verifiedUser('root');
    rootTokenBeforeCli = await c.login(email);
    seqBeforeCli = await c.lastSeq();
    rootCli = await c.cli(['users', 'set-role', email, 'admin']);
    root = await c.login(email);
    artist = await c.newUser('artist');
  });
  after(async () => {
    await t?.close();
    await mailbox?.close();
  });

  describe('empulse users set-role', () => {
    it('makes the first admin, revokes their sessions, and is audited with actor cli (actorId null)', async () => {
      assert.deepEqual(rootCli, { code: 0, out: [`${root.email} is now admin (was artist); their sessions were revoked`], err: [] });
      const rows = await c.auditSince(seqBeforeCli);
      assert.equal(rows.length, 1);
      assert.deepEqual(
        { ...rows[0]!, seq: undefined },
        {
          ...rows[0]!,
          seq: undefined,
          actor: 'cli',
          actor_id: null,
          action: 'user.role.changed',
          target_type: 'user',
          target_id: root.id,
          request_id: null,
          ip: null,
          details: { from: 'artist', to: 'admin', sessionsRevoked: 1 },
        },
      );
      assert.ok(rows[0]!.reason && rows[0]!.reason.length > 0, 'with a reason');
      expectUnauthenticated(await c.me(rootTokenBeforeCli.headers));
      const me = await c.me(root.headers);
      assert.equal(me.statusCode, 200);
      assert.equal((me.json() as { role: string }).role, 'admin');
    });

    it('exits 1 naming the email when no account has it, 2 on a bad role or wrong usage, and audits nothing', async () => {
      const seq = await c.lastSeq();
      const unknown = await c.cli(['users', 'set-role', 'nobody-at-all@example.test', 'admin']);
      assert.equal(unknown.code, 1);
      assert.match(unknown.err.join('\n'), /nobody-at-all@example\.test/);
      for (const words of [
        ['users', 'set-role', artist.email, 'superuser'],
        ['users', 'set-role', artist.email, 'Admin'],
        ['users', 'set-role', artist.email],
        ['users', 'set-role', artist.email, 'admin', 'extra'],
      ]) {
        const res = await c.cli(words);
        assert.equal(res.code, 2, words.join(' '));
        assert.match(res.err.join('\n'), /usage: empulse users set-role <email> <artist\|admin>/);
      }
      await c.expectNotAudited(seq);
      assert.equal((await c.viewOf(root, artist.id)).role, 'artist');
    });

    it('refuses (exit 1) to demote the only admin', async () => {
      const seq = await c.lastSeq();
      const res = await c.cli(['users', 'set-role', root.email.toUpperCase(), 'artist']);
      assert.equal(res.code, 1);
      assert.match(res.err.join('\n'), /only admin/);
      await c.expectNotAudited(seq);
      assert.equal((await c.me(root.headers)).statusCode, 200, 'and their session lives on');
    });
  });

  describe('every route needs the admin role', () => {
    const routes = (id: string): { method: 'GET' | 'PUT' | 'POST'; url: string; payload?: object }[] => [
      { method: 'GET', url: '/v1/admin/users' },
      { method: 'GET', url: '/v1/admin/users?q=root&limit=5' },
      { method: 'GET', url: `/v1/admin/users/${id}` },
      { method: 'PUT', url: `/v1/admin/users/${id}/role`, payload: { role: 'admin', reason: 'let me in' } },
      { method: 'POST', url: `/v1/admin/users/${id}/lock`, payload: { reason: 'lock' } },
      { method: 'POST', url: `/v1/admin/users/${id}/unlock`, payload: { reason: 'unlock' } },
      { method: 'POST', url: `/v1/admin/users/${id}/revoke-sessions`, payload: { reason: 'revoke' } },
      { method: 'GET', url: '/v1/admin/audit' },
      { method: 'GET', url: `/v1/admin/audit?actorId=${id}&limit=5` },
    ];

    it('answers 401 unauthenticated with WWW-Authenticate: Bearer to anonymous callers and bad tokens', async () => {
      const seq = await c.lastSeq();
      for (const route of routes(artist.id)) {
        expectUnauthenticated(await c.action(undefined, route.method, route.url, route.payload));
        expectUnauthenticated(await t.inject({ ...route, headers: bearer('not.a.jwt') }));
      }
      await c.expectNotAudited(seq);
    });

    it('checks the role before the query and body: invalid requests get 401/403, never 422 details', async () => {
      const invalid = [
        { method: 'PUT' as const, url: '/v1/admin/users/abc/role', payload: {} },
        { method: 'POST' as const, url: `/v1/admin/users/${artist.id}/lock`, payload: { until: 'x' } },
        { method: 'GET' as const, url: '/v1/admin/audit?actorId=bad' },
        { method: 'GET' as const, url: '/v1/admin/users?role=zzz&limit=0' },
      ];
      for (const route of invalid) {
        expectUnauthenticated(await c.action(undefined, route.method, route.url, route.payload));
        expectProblem(await c.action(artist, route.method, route.url, route.payload), 403, 'forbidden');
      }
    });

    it('answers 403 forbidden to artists, on themselves and on others, and changes nothing', async () => {
      const seq = await c.lastSeq();
      for (const target of [artist.id, root.id]) {
        for (const route of routes(target)) {
          expectProblem(await c.action(artist, route.method, route.url, route.payload), 403, 'forbidden');
        }
      }
      await c.expectNotAudited(seq);
      assert.equal((await c.me(artist.headers)).statusCode, 200, 'the artist is still signed in');
      const view = await c.viewOf(root, artist.id);
      assert.deepEqual({ role: view.role, locked: view.locked }, { role: 'artist', locked: false });
      assert.equal((await c.me(root.headers)).statusCode, 200, 'the admin was not locked or revoked');
    });
  });

  describe('GET /v1/admin/users/:id', () => {
    it('answers AdminUser: the user, their last login, lock state and live sessions', async () => {
      const { id, email } = await c.verifiedUser('viewed', 'Viewed Person');
      const fresh = await c.viewOf(root, id);
      assert.deepEqual(Object.keys(fresh).sort(), ADMIN_USER_KEYS);
      assert.deepEqual(
        { ...fresh, createdAt: undefined },
        { id, email, displayName: 'Viewed Person', role: 'artist', emailVerified: true, createdAt: undefined, lastLoginAt: null, locked: false, lockedUntil: null, activeSessions: 0 },
      );
      assert.match(fresh.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

      const start = Date.now();
      const first = await c.login(email);
      await c.login(email);
      const loggedIn = await c.viewOf(root, id);
      assert.equal(loggedIn.activeSessions, 2);
      assert.ok(loggedIn.lastLoginAt);
      assert.ok(Date.parse(loggedIn.lastLoginAt) >= start - 1000 && Date.parse(loggedIn.lastLoginAt) <= Date.now() + 1000, loggedIn.lastLoginAt);

      assert.equal((await t.inject({ method: 'POST', url: '/v1/auth/logout', headers: first.headers })).statusCode, 204);
      assert.equal((await c.viewOf(root, id)).activeSessions, 1, 'a logged-out session no longer counts');
    });

    it('answers 404 not_found for an unknown id and for one that is not a uuid', async () => {
      for (const id of [UNKNOWN_ID, 'not-a-uuid', '123']) expectProblem(await c.getUser(root, id), 404, 'not_found');
    });
  });

  describe('GET /v1/admin/users', () => {
    const page = (res: Response) => {
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.headers['cache-control'], 'no-store');
      return res.json() as { items: AdminUser[]; nextCursor: string | null };
    };
    const ids = async (query: string) => page(await c.listUsers(root, query)).items.map((u) => u.id);
    let pagers: { id: string; email: string }[] = [];

    before(async () => {
      // 25 accounts that only this search matches (unverified: the list shows every account).
      const emails = Array.from({ length: 25 }, (_, i) => `zq7pager-${String(i + 1).padStart(2, '0')}@example.test`);
      await Promise.all(emails.map((email, i) => c.register(email, `Pager ${i + 1}`)));
      const rows = (await c.sql().execute("select id, email from auth_users where email like 'zq7pager-%'", [], 'all')) as { id: string; email: string }[];
      assert.equal(rows.length, 25);
      pagers = rows;
    });

    it('finds accounts by part of the email, case-insensitively', async () => {
      const expected = pagers.filter((p) => /^zq7pager-1\d@/.test(p.email)).map((p) => p.id);
      assert.equal(expected.length, 10);
      assert.deepEqual(new Set(await ids('?q=ZQ7Pager-1&limit=100')), new Set(expected));
      assert.deepEqual(await ids(`?q=${encodeURIComponent(artist.email.toUpperCase())}`), [artist.id]);
    });

    it('finds accounts by part of the display name, case-insensitively', async () => {
      const { id } = await c.verifiedUser('named', 'Marguerite Quintessa-Vox');
      assert.deepEqual(await ids('?q=QUINTESS'), [id]);
      assert.deepEqual(await ids('?q=tessa-v'), [id]);
      assert.deepEqual(await ids('?q=%20quintessa-vox%20'), [id], 'the search term is trimmed');
      assert.deepEqual(await ids('?q=quintessa-voxx'), []);
      // LIKE wildcards match literally.
      assert.deepEqual(await ids('?q=%25'), []);
      assert.deepEqual(await ids('?q=zq7pager_0'), []);
    });

    it('filters by role, alone and with a search', async () => {
      const admins = page(await c.listUsers(root, '?role=admin&limit=100')).items;
      assert.ok(admins.length >= 1);
      assert.ok(admins.every((u) => u.role === 'admin'));
      assert.ok(admins.some((u) => u.id === root.id));
      const artists = page(await c.listUsers(root, '?role=artist&limit=100')).items;
      assert.ok(artists.every((u) => u.role === 'artist'));
      assert.ok(artists.some((u) => u.id === artist.id));
      assert.ok(!artists.some((u) => u.id === root.id));
      assert.deepEqual(await ids('?q=zq7pager&role=admin'), []);
      assert.equal((await ids('?q=zq7pager&role=artist&limit=100')).length, 25);
      assert.deepEqual(await ids(`?q=${root.email.split('@')[0]}&role=admin`), [root.id]);
    });

    it('walks 25 accounts in pages of 10, newest first, without duplicates or gaps', async () => {
      const seen: AdminUser[] = [];
      const sizes: number[] = [];
      let cursor: string | null = null;
      do {
        const body = page(await c.listUsers(root, `?q=zq7pager&limit=10${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`));
        sizes.push(body.items.length);
        seen.push(...body.items);
        cursor = body.nextCursor;
      } while (cursor);
      assert.deepEqual(sizes, [10, 10, 5]);
      assert.equal(new Set(seen.map((u) => u.id)).size, 25, 'no duplicates');
      assert.deepEqual(new Set(seen.map((u) => u.id)), new Set(pagers.map((p) => p.id)), 'no gaps');
      for (let i = 1; i < seen.length; i++) assert.ok(seen[i - 1]!.createdAt >= seen[i]!.createdAt, 'newest first');
      for (const u of seen) assert.deepEqual(Object.keys(u).sort(), ADMIN_USER_KEYS);
      assert.ok(seen.every((u) => !u.emailVerified && u.activeSessions === 0 && u.lastLoginAt === null && !u.locked));
    });

    it('refuses a bad cursor, a cursor from another search, and a bad role with 422 naming the parameter', async () => {
      const first = page(await c.listUsers(root, '?q=zq7pager&limit=2'));
      assert.ok(first.nextCursor);
      const cursor = encodeURIComponent(first.nextCursor);
      assert.equal(page(await c.listUsers(root, `?q=zq7pager&limit=2&cursor=${cursor}`)).items.length, 2);
      for (const query of ['?cursor=abc.def', '?cursor=not-a-cursor', `?q=zq7pager-1&limit=2&cursor=${cursor}`, `?limit=2&cursor=${cursor}`, `?q=zq7pager&role=artist&cursor=${cursor}`]) {
        const problem = expectProblem(await c.listUsers(root, query), 422, 'validation_failed');
        assert.deepEqual(problem.errors?.map((e) => e.path), ['cursor'], query);
      }
      assert.deepEqual(expectProblem(await c.listUsers(root, '?role=superuser'), 422, 'validation_failed').errors?.map((e) => e.path), ['role']);
      assert.deepEqual(expectProblem(await c.listUsers(root, '?limit=101'), 422, 'validation_failed').errors?.map((e) => e.path), ['limit']);
    });
  });

  describe('PUT /v1/admin/users/:id/role', () => {
    it('answers 409 last_admin when the only admin demotes themself, and audits nothing', async () => {
      assert.deepEqual(itemsOf(await c.listUsers(root, '?role=admin')).map((u) => u.id), [root.id], 'root is the only admin');
      const seq = await c.lastSeq();
      expectProblem(await c.setRole(root, root.id, { role: 'artist', reason: 'stepping down' }), 409, 'last_admin');
      await c.expectNotAudited(seq);
      const me = await c.me(root.headers);
      assert.equal(me.statusCode, 200, 'still signed in');
      assert.equal((me.json() as { role: string }).role, 'admin');
    });

    it('changes the role (200 AdminUser), revokes the user’s sessions, and audits user.role.changed once', async () => {
      const user = await c.newUser('promoted');
      const seq = await c.lastSeq();
      const res = await c.setRole(root, user.id, { role: 'admin', reason: 'runs the label with us now' });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.headers['cache-control'], 'no-store');
      const body = res.json() as AdminUser;
      assert.deepEqual(Object.keys(body).sort(), ADMIN_USER_KEYS);
      assert.deepEqual({ id: body.id, role: body.role, activeSessions: body.activeSessions, locked: body.locked }, { id: user.id, role: 'admin', activeSessions: 0, locked: false });
      const row = await c.expectAudited(seq, res, root, { action: 'user.role.changed', targetId: user.id, reason: 'runs the label with us now' });
      assert.deepEqual(row.details, { from: 'artist', to: 'admin', sessionsRevoked: 1 });

      expectUnauthenticated(await c.me(user.headers));
      const again = await c.login(user.email);
      const me = await c.me(again.headers);
      assert.equal((me.json() as { role: string }).role, 'admin');
      assert.equal((await c.listUsers(again, '?role=admin')).statusCode, 200, 'the new admin may use the back office');

      // And back: two admins, so demoting one is allowed; the token of the demoted admin fails too.
      const seq2 = await c.lastSeq();
      const back = await c.setRole(root, user.id, { role: 'artist', reason: 'project over' });
      assert.equal(back.statusCode, 200, back.body);
      assert.equal((back.json() as AdminUser).role, 'artist');
      const row2 = await c.expectAudited(seq2, back, root, { action: 'user.role.changed', targetId: user.id, reason: 'project over' });
      assert.deepEqual(row2.details, { from: 'admin', to: 'artist', sessionsRevoked: 1 });
      expectUnauthenticated(await c.listUsers(again));
      const relogged = await c.login(user.email);
      expectProblem(await c.listUsers(relogged), 403, 'forbidden');
    });

    it('answers 422 naming the field without a reason or with a bad role, and 404 for an unknown user, auditing nothing', async () => {
      const seq = await c.lastSeq();
      for (const [payload, path] of [
        [{ role: 'admin' }, 'reason'],
        [{ role: 'admin', reason: '' }, 'reason'],
        [{ role: 'admin', reason: '   ' }, 'reason'],
        [{ role: 'admin', reason: 'x'.repeat(501) }, 'reason'],
        [{ role: 'superuser', reason: 'why not' }, 'role'],
        [{ reason: 'why not' }, 'role'],
      ] as const) {
        const problem = expectProblem(await c.setRole(root, artist.id, payload), 422, 'validation_failed');
        assert.ok(problem.errors?.some((e) => e.path === path), `${JSON.stringify(payload)}: ${JSON.stringify(problem.errors)}`);
      }
      for (const id of [UNKNOWN_ID, 'not-a-uuid']) expectProblem(await c.setRole(root, id, { role: 'admin', reason: 'ghost' }), 404, 'not_found');
      await c.expectNotAudited(seq);
      assert.equal((await c.viewOf(root, artist.id)).role, 'artist');
      assert.equal((await c.me(artist.headers)).statusCode, 200, 'no session was revoked');
    });
  });

  describe('POST /v1/admin/users/:id/lock and /unlock', () => {
    it('locks indefinitely: 200 locked, sessions end at once, 423 with Retry-After even for the right password, a password reset does not lift it; unlock does', async () => {
      const user = await c.newUser('locked');
      const seq = await c.lastSeq();
      const res = await c.lock(root, user.id, { reason: 'chargeback fraud' });
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json() as AdminUser;
      assert.deepEqual(Object.keys(body).sort(), ADMIN_USER_KEYS);
      assert.deepEqual({ id: body.id, locked: body.locked, lockedUntil: body.lockedUntil, activeSessions: body.activeSessions }, { id: user.id, locked: true, lockedUntil: null, activeSessions: 0 });
      const row = await c.expectAudited(seq, res, root, { action: 'user.locked', targetId: user.id, reason: 'chargeback fraud' });
      assert.deepEqual(row.details, { until: null, sessionsRevoked: 1 });

      expectUnauthenticated(await c.me(user.headers));
      const refused = await c.loginRaw(user.email);
      expectProblem(refused, 423, 'account_locked');
      assert.equal(refused.headers['retry-after'], '3600', 'an indefinite lock says when to ask again');

      // A password reset lifts a failed-login lock, not an administrator's.
      assert.equal((await t.inject({ method: 'POST', url: '/v1/auth/forgot-password', payload: { email: user.email } })).statusCode, 202);
      const token = linkToken(await mailbox.waitFor(user.email, /Reset your/), APP, '/reset-password');
      const newPassword = 'a brand new passphrase 42';
      assert.equal((await t.inject({ method: 'POST', url: '/v1/auth/reset-password', payload: { token, password: newPassword } })).statusCode, 204);
      await t.kernel.hooksSettled();
      expectProblem(await c.loginRaw(user.email, newPassword), 423, 'account_locked');
      assert.equal((await c.viewOf(root, user.id)).locked, true);

      const seq2 = await c.lastSeq();
      const unlocked = await c.unlock(root, user.id, { reason: 'cleared by support' });
      assert.equal(unlocked.statusCode, 200, unlocked.body);
      assert.deepEqual({ locked: (unlocked.json() as AdminUser).locked, lockedUntil: (unlocked.json() as AdminUser).lockedUntil }, { locked: false, lockedUntil: null });
      const row2 = await c.expectAudited(seq2, unlocked, root, { action: 'user.unlocked', targetId: user.id, reason: 'cleared by support' });
      assert.deepEqual(row2.details, {});
      assert.equal((await c.loginRaw(user.email, newPassword)).statusCode, 200);
    });

    it('locks until a moment ahead: lockedUntil shows it, and the lock ends by itself', async () => {
      const user = await c.newUser('timed');
      const lockedUntil = new Date(Date.now() + 2000).toISOString();
      const seq = await c.lastSeq();
      const res = await c.lock(root, user.id, { reason: 'cool-off', until: lockedUntil });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual({ locked: (res.json() as AdminUser).locked, lockedUntil: (res.json() as AdminUser).lockedUntil }, { locked: true, lockedUntil });
      const row = await c.expectAudited(seq, res, root, { action: 'user.locked', targetId: user.id, reason: 'cool-off' });
      assert.deepEqual(row.details, { until: lockedUntil, sessionsRevoked: 1 });
      expectUnauthenticated(await c.me(user.headers));
      const refused = await c.loginRaw(user.email);
      expectProblem(refused, 423, 'account_locked');
      const retryAfter = Number(refused.headers['retry-after']);
      assert.ok(retryAfter >= 1 && retryAfter <= 2, `Retry-After ${retryAfter}`);

      await until('the timed lock to end', async () => !(await c.viewOf(root, user.id)).locked, 6000);
      assert.ok(Date.now() >= Date.parse(lockedUntil), 'not before its time');
      assert.equal((await c.viewOf(root, user.id)).lockedUntil, null);
      assert.equal((await c.loginRaw(user.email)).statusCode, 200);
      assert.equal((await c.auditSince(seq)).length, 1, 'ending by itself writes nothing');
    });

    it('unlock also lifts a failed-login lock', async () => {
      const user = await c.newUser('mistyped');
      for (let i = 0; i < 5; i++) expectProblem(await c.loginRaw(user.email, 'not the password at all'), 401, 'invalid_credentials');
      expectProblem(await c.loginRaw(user.email), 423, 'account_locked');
      const view = await c.viewOf(root, user.id);
      assert.equal(view.locked, true);
      assert.ok(view.lockedUntil && Date.parse(view.lockedUntil) > Date.now(), 'a failed-login lock has an end');
      assert.equal(view.activeSessions, 1, 'failed logins do not end sessions');
      const res = await c.unlock(root, user.id, { reason: 'verified by phone' });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal((res.json() as AdminUser).locked, false);
      assert.equal((await c.loginRaw(user.email)).statusCode, 200);
    });

    it('refuses an until in the past or not a timestamp, a missing reason (422), the admin’s own account (409 cannot_lock_self) and unknown users (404), auditing nothing', async () => {
      const seq = await c.lastSeq();
      for (const [payload, path] of [
        [{ reason: 'late', until: new Date(Date.now() - 60_000).toISOString() }, 'until'],
        [{ reason: 'late', until: new Date().toISOString() }, 'until'],
        [{ reason: 'soon', until: 'tomorrow' }, 'until'],
        [{ reason: 'soon', until: '2999-01-01' }, 'until'],
        [{}, 'reason'],
        [{ reason: ' ' }, 'reason'],
      ] as const) {
        const problem = expectProblem(await c.lock(root, artist.id, payload), 422, 'validation_failed');
        assert.ok(problem.errors?.some((e) => e.path === path), `${JSON.stringify(payload)}: ${JSON.stringify(problem.errors)}`);
      }
      expectProblem(await c.unlock(root, artist.id, {}), 422, 'validation_failed');
      expectProblem(await c.lock(root, root.id, { reason: 'oops' }), 409, 'cannot_lock_self');
      for (const id of [UNKNOWN_ID, 'not-a-uuid']) {
        expectProblem(await c.lock(root, id, { reason: 'ghost' }), 404, 'not_found');
        expectProblem(await c.unlock(root, id, { reason: 'ghost' }), 404, 'not_found');
      }
      await c.expectNotAudited(seq);
      assert.equal((await c.me(root.headers)).statusCode, 200, 'the admin is still signed in');
      assert.equal((await c.me(artist.headers)).statusCode, 200);
      assert.equal((await c.viewOf(root, artist.id)).locked, false);
      assert.equal((await c.viewOf(root, root.id)).locked, false);
    });
  });

  describe('POST /v1/admin/users/:id/revoke-sessions', () => {
    it('answers 204, ends every session of the user at their next request, and audits user.sessions.revoked once', async () => {
      const user = await c.newUser('revoked');
      const second = await c.login(user.email);
      assert.equal((await c.viewOf(root, user.id)).activeSessions, 2);
      const seq = await c.lastSeq();
      const res = await c.revoke(root, user.id, { reason: 'lost phone' });
      assert.equal(res.statusCode, 204, res.body);
      assert.equal(res.body, '');
      const row = await c.expectAudited(seq, res, root, { action: 'user.sessions.revoked', targetId: user.id, reason: 'lost phone' });
      assert.deepEqual(row.details, { sessionsRevoked: 2 });
      expectUnauthenticated(await c.me(user.headers));
      expectUnauthenticated(await c.me(second.headers));
      const refresh = await t.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refreshToken: second.refreshToken } });
      assert.equal(refresh.statusCode, 401, refresh.body);
      const view = await c.viewOf(root, user.id);
      assert.deepEqual({ activeSessions: view.activeSessions, locked: view.locked }, { activeSessions: 0, locked: false });
      assert.equal((await c.loginRaw(user.email)).statusCode, 200, 'not a lock: the user may sign in again');
    });

    it('answers 404 for an unknown user and 422 without a reason, auditing nothing', async () => {
      const seq = await c.lastSeq();
      for (const id of [UNKNOWN_ID, 'not-a-uuid']) expectProblem(await c.revoke(root, id, { reason: 'ghost' }), 404, 'not_found');
      expectProblem(await c.revoke(root, artist.id, {}), 422, 'validation_failed');
      await c.expectNotAudited(seq);
      assert.equal((await c.me(artist.headers)).statusCode, 200);
    });
  });

  describe('the audit log after all this', () => {
    it('lists the back office’s entries for the target, newest first (GET /v1/admin/audit?targetId=)', async () => {
      const user = await c.newUser('trail');
      await c.lock(root, user.id, { reason: 'one' });
      await c.unlock(root, user.id, { reason: 'two' });
      await c.revoke(root, user.id, { reason: 'three' });
      const res = await t.inject({ method: 'GET', url: `/v1/admin/audit?targetId=${user.id}`, headers: root.headers });
      assert.equal(res.statusCode, 200, res.body);
      const items = (res.json() as { items: { action: string; reason: string; actorId: string; actor: string }[] }).items;
      assert.deepEqual(
        items.map((e) => [e.action, e.reason, e.actor, e.actorId]),
        [
          ['user.sessions.revoked', 'three', 'user', root.id],
          ['user.unlocked', 'two', 'user', root.id],
          ['user.locked', 'one', 'user', root.id],
        ],
      );
    });

    it('is an intact hash chain: empulse audit verify exits 0', async () => {
      const n = await c.lastSeq();
      assert.ok(n >= 10);
      assert.deepEqual(await c.cli(['audit', 'verify']), { code: 0, out: [`audit log: ${n} entries, hash chain intact`], err: [] });
    });
  });

  /** The items of a 200 list answer. */
  function itemsOf(res: Response): AdminUser[] {
    assert.equal(res.statusCode, 200, res.body);
    return (res.json() as { items: AdminUser[] }).items;
  }
});

describe('admin plugin: two admins demoting each other at once', () => {
  let mailbox: Mailbox;
  let t: TestKernel;
  const c = client(
    () => t,
    () => mailbox,
  );
  before(async () => {
    mailbox = await startMailbox();
    t = await createTestKernel({ plugins: plugins(mailbox), env: { JWT_SECRET } });
  });
  after(async () => {
    await t?.close();
    await mailbox?.close();
  });

  it('lets exactly one succeed; the other gets 409 last_admin, and one admin remains', async () => {
    const a = await c.newAdmin('admin-a');
    const bAccount = await c.newUser('admin-b');
    assert.equal((await c.setRole(a, bAccount.id, { role: 'admin', reason: 'second admin' })).statusCode, 200);
    const b = await c.login(bAccount.email);
    const seq = await c.lastSeq();
    assert.equal(t.database.driver, 'postgresql');
    const blocker = new pg.Client({ connectionString: t.database.driver === 'postgresql' ? t.database.url : '' });
    await blocker.connect();
    let answers: Response[];
    try {
      // Hold the admins' rows so that both requests are past authentication and inside their
      // transactions, waiting on the same lock, before either can decide.
      await blocker.query('begin');
      await blocker.query("select id from auth_users where role = 'admin' for update");
      const racing = Promise.all([
        c.setRole(a, b.id, { role: 'artist', reason: 'a demotes b' }),
        c.setRole(b, a.id, { role: 'artist', reason: 'b demotes a' }),
      ]);
      await until('both demotions to wait on the admins’ rows', async () => {
        // pg_stat_activity is a per-transaction snapshot: clear it to see backends connected since.
        await blocker.query('select pg_stat_clear_snapshot()');
        const { rows } = await blocker.query<{ n: string }>(
          "select count(*) as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and pid <> pg_backend_pid()",
        );
        return Number(rows[0]!.n) === 2;
      });
      await blocker.query('commit');
      answers = await racing;
    } finally {
      await blocker.end();
    }
    const statuses = answers.map((r) => r.statusCode).sort();
    assert.deepEqual(statuses, [200, 409], answers.map((r) => r.body).join('\n'));
    const winnerIndex = answers.findIndex((r) => r.statusCode === 200);
    const [winner, loser] = winnerIndex === 0 ? [a, b] : [b, a];
    expectProblem(answers[1 - winnerIndex]!, 409, 'last_admin');

    const admins = (await c.listUsers(winner, '?role=admin')).json() as { items: AdminUser[] };
    assert.deepEqual(admins.items.map((u) => u.id), [winner.id], 'one admin remains: the winner');
    const rows = await c.auditSince(seq);
    assert.deepEqual(
      rows.map((r) => [r.action, r.actor_id, r.target_id]),
      [['user.role.changed', winner.id, loser.id]],
      'only the change that happened is audited',
    );
    expectUnauthenticated(await c.me(loser.headers));
    assert.equal((await c.cli(['audit', 'verify'])).code, 0);
  });
});

describe('admin plugin without the lockout plugin', () => {
  let mailbox: Mailbox;
  let t: TestKernel;
  const c = client(
    () => t,
    () => mailbox,
  );
  before(async () => {
    mailbox = await startMailbox();
    t = await createTestKernel({ plugins: plugins(mailbox, { lockout: false }), env: { JWT_SECRET } });
  });
  after(async () => {
    await t?.close();
    await mailbox?.close();
  });

  it('answers 404 not_found to lock and unlock, auditing nothing; the other routes work and no one shows as locked', async () => {
    const admin = await c.newAdmin('solo-admin');
    const user = await c.newUser('unlockable');
    const seq = await c.lastSeq();
    expectProblem(await c.lock(admin, user.id, { reason: 'no lockout here' }), 404, 'not_found');
    expectProblem(await c.lock(admin, user.id, { reason: 'no lockout here', until: new Date(Date.now() + 60_000).toISOString() }), 404, 'not_found');
    expectProblem(await c.unlock(admin, user.id, { reason: 'no lockout here' }), 404, 'not_found');
    await c.expectNotAudited(seq);
    assert.equal((await c.me(user.headers)).statusCode, 200, 'their session was not revoked');
    const view = await c.viewOf(admin, user.id);
    assert.deepEqual({ locked: view.locked, lockedUntil: view.lockedUntil, activeSessions: view.activeSessions }, { locked: false, lockedUntil: null, activeSessions: 1 });
    const revoked = await c.revoke(admin, user.id, { reason: 'still possible' });
    assert.equal(revoked.statusCode, 204);
    await c.expectAudited(seq, revoked, admin, { action: 'user.sessions.revoked', targetId: user.id, reason: 'still possible' });
    // Still refuses anonymous callers and artists first.
    expectUnauthenticated(await c.action(undefined, 'POST', `/v1/admin/users/${user.id}/lock`, { reason: 'x' }));
    const artist = await c.login(user.email);
    expectProblem(await c.lock(artist, admin.id, { reason: 'x' }), 403, 'forbidden');
  });
});
