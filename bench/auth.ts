/**
 * Auth figures for `npm run bench`: login throughput and latency at the argon2 cap, liveness
 * latency while 50 logins hash at once (the server must stay responsive), and refresh and
 * authenticated GET /v1/me throughput. Users are registered through the API and marked verified
 * in the database (reading the verification email is the tests' job, not the bench's).
 */
import { createHash, randomBytes } from 'node:crypto';
import autocannon from 'autocannon';
import pg from 'pg';
import { accountCpu, type CpuShares } from './cpu-account.ts';

export interface LockoutFigures {
  readonly unauthorized: number;
  readonly locked: number;
  readonly other: number;
  readonly elapsedMs: number;
}

export interface AuthFigures {
  readonly lockout: LockoutFigures;
  /** 50 clients logging into one account (they take turns per email with lockout on). */
  readonly login: Figures;
  /** 50 clients, each logging into an account of its own. */
  readonly loginMany: Figures;
  /** Where the machine's CPU went per login of `loginMany` (undefined without /proc). */
  readonly loginCpu: CpuShares | undefined;
  /** GET /health/live and /health/ready on the same server, 50 clients (the ratios' bases). */
  readonly live: Figures;
  readonly ready: Figures;
  readonly liveDuringLogins: Figures;
  readonly liveIdle: Figures;
  readonly refresh: Figures;
  readonly me: Figures;
}

export interface Figures {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly non2xx: number;
  readonly requests: number;
}

const PASSWORD = 'bench horse battery staple';

export async function benchAuth(baseUrl: string, serverPid: number, databaseUrl: string, durationS: number): Promise<AuthFigures> {
  const email = 'bench@example.com';
  await post(`${baseUrl}/v1/auth/register`, { email, password: PASSWORD, displayName: 'Bench' });

  const many = Array.from({ length: 50 }, (_, i) => `bench-${i}@example.com`);
  for (const address of many) await post(`${baseUrl}/v1/auth/register`, { email: address, password: PASSWORD, displayName: 'Bench' });
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  await db.query('update auth_users set email_verified_at = now()');
  await db.end();

  const live = await run({ url: `${baseUrl}/health/live`, connections: 50, duration: durationS });
  const ready = await run({ url: `${baseUrl}/health/ready`, connections: 50, duration: durationS });
  const loginBody = JSON.stringify({ email, password: PASSWORD });
  const login = await run({ url: `${baseUrl}/v1/auth/login`, method: 'POST', body: loginBody, connections: 50, duration: durationS });
  let next = 0;
  const { result: loginMany, cpu: loginCpu } = await accountCpu(
    serverPid,
    () =>
      run({
        url: `${baseUrl}/v1/auth/login`,
        method: 'POST',
        connections: 50,
        duration: durationS,
        requests: [{ method: 'POST', setupRequest: (req) => ({ ...req, body: JSON.stringify({ email: many[next++ % many.length], password: PASSWORD }) }) }],
      }),
    (r) => r.requests,
  );

  const liveIdle = await run({ url: `${baseUrl}/health/live`, connections: 10, duration: durationS });
  const [liveDuringLogins] = await Promise.all([
    run({ url: `${baseUrl}/health/live`, connections: 10, duration: durationS }),
    run({ url: `${baseUrl}/v1/auth/login`, method: 'POST', body: loginBody, connections: 50, duration: durationS }),
  ]);

  // 50 sessions, each given many unspent refresh tokens up front: every request spends a fresh
  // one (a client would chain each answer's token, but autocannon prepares a request before the
  // previous answer arrives).
  let accessToken = '';
  for (let i = 0; i < 50; i++) {
    accessToken = ((await post(`${baseUrl}/v1/auth/login`, { email, password: PASSWORD })) as { accessToken: string }).accessToken;
  }
  const tokens = Array.from({ length: 60_000 }, () => randomBytes(32).toString('base64url'));
  const seed = new pg.Client({ connectionString: databaseUrl });
  await seed.connect();
  const sessions = (await seed.query<{ id: string }>('select id from auth_sessions')).rows.map((r) => r.id);
  await seed.query(
    `insert into auth_refresh_tokens (token_hash, session_id, created_at)
     select h, s, now() from unnest($1::text[], $2::uuid[]) as t(h, s)`,
    [tokens.map((t) => createHash('sha256').update(t).digest('hex')), tokens.map((_, i) => sessions[i % sessions.length])],
  );
  await seed.end();
  const refresh = await run({
    url: `${baseUrl}/v1/auth/refresh`,
    method: 'POST',
    connections: 50,
    duration: durationS,
    requests: [
      {
        method: 'POST',
        setupRequest: (req) => ({ ...req, body: JSON.stringify({ refreshToken: tokens.pop() }) }),
      },
    ],
  });
  // 50 parallel wrong passwords for one email: the lockout plugin checks exactly `threshold`.
  const started = performance.now();
  const statuses = await Promise.all(
    Array.from({ length: 50 }, () =>
      fetch(`${baseUrl}/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'lockout-bench@example.com', password: 'not the password at all' }),
      }).then((r) => r.status),
    ),
  );
  const lockout = {
    unauthorized: statuses.filter((x) => x === 401).length,
    locked: statuses.filter((x) => x === 423).length,
    other: statuses.filter((x) => x !== 401 && x !== 423).length,
    elapsedMs: Math.round(performance.now() - started),
  };
  const me = await run({ url: `${baseUrl}/v1/me`, connections: 50, duration: durationS, headers: { authorization: `Bearer ${accessToken}` } });
  return { lockout, login, loginMany, loginCpu, live, ready, liveDuringLogins, liveIdle, refresh, me };
}

async function run(options: autocannon.Options): Promise<Figures> {
  const result = await autocannon({ ...options, headers: { 'content-type': 'application/json', ...options.headers } });
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx, requests: result.requests.total };
}

async function post(url: string, body: unknown): Promise<unknown> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  return res.status === 204 ? undefined : res.json();
}
