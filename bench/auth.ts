/**
 * Auth figures for `npm run bench`: login throughput and latency at the argon2 cap, liveness
 * latency while 50 logins hash at once (the server must stay responsive), and refresh and
 * authenticated GET /v1/me throughput. Users are registered through the API and marked verified
 * in the database (reading the verification email is the tests' job, not the bench's).
 */
import autocannon from 'autocannon';
import pg from 'pg';

export interface AuthFigures {
  readonly login: Figures;
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
}

const PASSWORD = 'bench horse battery staple';

export async function benchAuth(baseUrl: string, databaseUrl: string, durationS: number): Promise<AuthFigures> {
  const email = 'bench@example.com';
  await post(`${baseUrl}/v1/auth/register`, { email, password: PASSWORD, displayName: 'Bench' });
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  await db.query('update auth_users set email_verified_at = now()');
  await db.end();

  const loginBody = JSON.stringify({ email, password: PASSWORD });
  const login = await run({ url: `${baseUrl}/v1/auth/login`, method: 'POST', body: loginBody, connections: 50, duration: durationS });

  const liveIdle = await run({ url: `${baseUrl}/health/live`, connections: 10, duration: durationS });
  const [liveDuringLogins] = await Promise.all([
    run({ url: `${baseUrl}/health/live`, connections: 10, duration: durationS }),
    run({ url: `${baseUrl}/v1/auth/login`, method: 'POST', body: loginBody, connections: 50, duration: durationS }),
  ]);

  // One session per connection; each refresh spends the token and uses the one it got back.
  const tokens: string[] = [];
  let accessToken = '';
  for (let i = 0; i < 50; i++) {
    const pair = (await post(`${baseUrl}/v1/auth/login`, { email, password: PASSWORD })) as { refreshToken: string; accessToken: string };
    tokens.push(pair.refreshToken);
    accessToken = pair.accessToken;
  }
  const refresh = await run({
    url: baseUrl,
    connections: 50,
    duration: durationS,
    requests: [
      {
        method: 'POST',
        path: '/v1/auth/refresh',
        setupRequest: (req, context) => {
          const ctx = context as { token?: string };
          ctx.token ??= tokens.pop();
          return { ...req, headers: { ...req.headers, 'content-type': 'application/json' }, body: JSON.stringify({ refreshToken: ctx.token }) };
        },
        onResponse: (status, body, context) => {
          if (status === 200) (context as { token?: string }).token = (JSON.parse(body) as { refreshToken: string }).refreshToken;
        },
      },
    ],
  });
  const me = await run({ url: `${baseUrl}/v1/me`, connections: 50, duration: durationS, headers: { authorization: `Bearer ${accessToken}` } });
  return { login, liveDuringLogins, liveIdle, refresh, me };
}

async function run(options: autocannon.Options): Promise<Figures> {
  const result = await autocannon({ ...options, headers: { 'content-type': 'application/json', ...options.headers } });
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx };
}

async function post(url: string, body: unknown): Promise<unknown> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  return res.status === 204 ? undefined : res.json();
}
