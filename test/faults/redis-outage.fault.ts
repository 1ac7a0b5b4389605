/**
 * Redis stopped (killed) under rate-limited load, against two real server processes sharing it:
 * while it is away each instance keeps enforcing the limit in memory, readiness says degraded and
 * each logs one warning; once Redis is back, the shared backend is used again, which the test
 * sees over HTTP: the two instances together grant exactly the limit again.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createScratchDatabase } from '../../host/testing.ts';
import { startEmpulseServer, type EmpulseServer } from '../support/empulse-server.ts';
import { projectImport } from '../support/paths.ts';
import { startPrivateRedis, type PrivateRedis } from '../support/private-redis.ts';
import { until } from '../support/until.ts';
import { reportFault } from './fault-summary.ts';
import { send, Tally } from './load.ts';

const LIMIT = 20;
const CONFIG = `import { configure, defineConfig, definePlugin } from '${projectImport('core/index.ts')}';
import { healthPlugin } from '${projectImport('plugins/health/index.ts')}';
import { ratelimitPlugin } from '${projectImport('plugins/ratelimit/index.ts')}';
const ping = definePlugin({ id: 'ping', version: '1.0.0', routes(router) { router.get('/v1/ping', {}, (http) => { http.body = { ok: true }; }); } });
export default defineConfig({
  plugins: [configure(healthPlugin, { readinessCacheMs: 0 }), ping, configure(ratelimitPlugin, { backend: 'redis', defaultPolicy: { limit: ${LIMIT}, windowSeconds: 600 } })],
});
`;

describe('Redis stopped under rate-limited load', () => {
  let redis: PrivateRedis;
  let dir: string;
  let drop: () => Promise<void>;
  const servers: EmpulseServer[] = [];

  before(async () => {
    redis = await startPrivateRedis();
    dir = await mkdtemp(join(tmpdir(), 'empulse-fault-redis-'));
    await writeFile(join(dir, 'package.json'), '{ "type": "module" }\n');
    await writeFile(join(dir, 'empulse.config.ts'), CONFIG);
    const db = await createScratchDatabase();
    drop = db.drop;
    for (const name of ['a', 'b']) {
      servers.push(await startEmpulseServer({ cwd: dir, env: { DATABASE_URL: db.url, DATA_DIR: join(dir, name), REDIS_URL: redis.url } }));
    }
  });
  after(async () => {
    for (const s of servers) await s.kill();
    await redis?.stop();
    await drop?.();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** n requests to each instance, 10 in flight at a time across both; how many each granted. */
  const burst = async (tally: Tally, n: number): Promise<number[]> => {
    const granted = servers.map(() => 0);
    let next = 0;
    const total = n * servers.length;
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        for (let i = next++; i < total; i = next++) {
          const which = i % servers.length;
          const a = await send(`${servers[which]!.url}/v1/ping`, { method: 'GET' });
          tally.count(a, (x) => x.status === 200 || (x.status === 429 && x.code === 'rate_limited' && x.retryAfter !== null));
          if (a.status === 200) granted[which]!++;
        }
      }),
    );
    return granted;
  };
  const readiness = async (s: EmpulseServer) => ((await send(`${s.url}/health/ready`, { method: 'GET' })).body as { checks: { ratelimit: { status: string } } }).checks.ratelimit.status;
  const warnings = (s: EmpulseServer) => s.logs.filter((l) => l.msg === 'rate-limit backend failed; enforcing limits in memory until it is back').length;

  it('holds limits in memory while Redis is away and shares them again once it is back', async () => {
    const tally = new Tally();
    // Shared: 15 requests to each instance, exactly LIMIT granted between them.
    const before = await burst(tally, 15);
    assert.equal(before[0]! + before[1]!, LIMIT, `shared before the outage: ${before.join(' + ')}`);

    await redis.stop();
    const during = await burst(tally, LIMIT + 5);
    // Each instance enforces the limit on its own, from a fresh count: exactly LIMIT each, never unlimited.
    assert.deepEqual(during, [LIMIT, LIMIT], `in memory during the outage: ${during.join(', ')}`);
    for (const s of servers) {
      assert.equal(await readiness(s), 'degraded');
      assert.equal(warnings(s), 1, 'one warning per instance');
    }

    await redis.start();
    for (const s of servers) await until('readiness to see Redis again', async () => (await readiness(s)) === 'ok', 15_000);
    // Redis came back empty: a fresh shared window, granted once across both instances.
    const after = await burst(tally, 15);
    assert.equal(after[0]! + after[1]!, LIMIT, `shared after the outage: ${after.join(' + ')}`);
    for (const s of servers) await until('the back-to-shared log line', () => s.logs.find((l) => l.msg === 'rate-limit backend is back; shared limits apply again'));
    assert.deepEqual(tally.unexpected, []);
    reportFault({
      scenario: 'Redis killed under rate-limited load (2 servers)',
      injected: 'SIGKILL redis-server between bursts of 10 concurrent clients on two servers, started again on the same port',
      requests: tally.requests,
      outcomes: tally.byOutcome,
      losses: tally.unexpected.length,
      notes: `granted before ${before.join('+')}, during ${during.join('+')} (memory), after ${after.join('+')}; limit ${LIMIT}`,
    });
  });
});
