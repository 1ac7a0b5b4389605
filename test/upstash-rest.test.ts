/**
 * The local Upstash REST stand-in (test/support/upstash-rest.ts) against the real SDKs:
 * @upstash/redis commands and pipelines, @upstash/ratelimit's sliding window (EVALSHA → NOSCRIPT
 * → EVAL fallback with Upstash's shebang scripts), token checks, and the request counter.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Redis as IORedis } from 'ioredis';
import { Redis } from '@upstash/redis';
import { Ratelimit } from '@upstash/ratelimit';
import { startUpstashRest, type UpstashRest } from './support/upstash-rest.ts';

const REDIS_URL = process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379';
// Unique per run, so parallel or repeated runs never share keys; everything under it is deleted.
const PREFIX = `test:upstash-rest:${randomBytes(6).toString('hex')}`;
const TOKEN = randomBytes(16).toString('hex');

describe('local Upstash REST endpoint', () => {
  let rest: UpstashRest;
  let direct: IORedis;

  before(async () => {
    rest = await startUpstashRest({ token: TOKEN, redisUrl: REDIS_URL });
    direct = new IORedis(REDIS_URL, { maxRetriesPerRequest: 1 });
  });

  after(async () => {
    const keys = await direct.keys(`${PREFIX}*`);
    if (keys.length > 0) await direct.del(...keys);
    direct.disconnect();
    await rest?.close();
  });

  const client = (token = TOKEN) => new Redis({ url: rest.url, token, retry: false, enableTelemetry: false });

  it('serves set/get (base64 replies, non-ASCII intact) and pipelines', async () => {
    const redis = client();
    const before = rest.requests;
    assert.equal(await redis.set(`${PREFIX}:greeting`, 'héllo ✓'), 'OK');
    assert.equal(await redis.get(`${PREFIX}:greeting`), 'héllo ✓');
    assert.equal(await direct.get(`${PREFIX}:greeting`), 'héllo ✓', 'the value really is in Redis');
    assert.equal(await redis.get(`${PREFIX}:missing`), null);

    const [incremented, read] = await redis.pipeline().incr(`${PREFIX}:n`).get(`${PREFIX}:greeting`).exec();
    assert.deepEqual([incremented, read], [1, 'héllo ✓']);
    const [, again] = await redis.multi().incr(`${PREFIX}:n`).get(`${PREFIX}:n`).exec();
    assert.equal(again, 2);
    assert.equal(rest.requests - before, 7, 'each command, pipelined or not, is counted');
  });

  it('lets Ratelimit.slidingWindow allow exactly 3 of 5 calls, counting down', async () => {
    const ratelimit = new Ratelimit({
      redis: client(),
      limiter: Ratelimit.slidingWindow(3, '10 s'),
      prefix: `${PREFIX}:rl`,
      ephemeralCache: false, // every call must reach Redis, so the command count is exact
    });
    // Windows are aligned to multiples of 10 s; straddling a boundary would weigh in the previous
    // window and change the counts, so start well inside one.
    const msLeft = 10_000 - (Date.now() % 10_000);
    if (msLeft < 2_000) await new Promise((resolve) => setTimeout(resolve, msLeft + 50));
    const before = rest.requests;
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await ratelimit.limit('user-1'));

    assert.deepEqual(results.map((r) => r.success), [true, true, true, false, false]);
    assert.deepEqual(results.map((r) => r.remaining), [2, 1, 0, 0, 0]);
    assert.ok(results.every((r) => r.limit === 3));
    // 1st call: EVALSHA of Upstash's SHA → NOSCRIPT → EVAL (stripped); later calls: one EVALSHA
    // each, mapped to the stripped script's SHA. Without the mapping this would be 10.
    assert.equal(rest.requests - before, 6, 'the limiter went through the endpoint, reusing the script');
    assert.ok((await direct.keys(`${PREFIX}:rl:user-1:*`)).length > 0, 'the window key lives in real Redis');
  });

  it('answers unknown script SHAs with NOSCRIPT, in Redis wording', async () => {
    await assert.rejects(client().evalsha('0'.repeat(40), [], []), /NOSCRIPT No matching script\. Please use EVAL\./);
  });

  it('rejects a wrong token with 401 Unauthorized', async () => {
    const before = rest.requests;
    await assert.rejects(client('wrong-token').get(`${PREFIX}:greeting`), /Unauthorized/);
    const res = await fetch(rest.url, { method: 'POST', body: JSON.stringify(['PING']) });
    assert.equal(res.status, 401);
    assert.deepEqual(await res.json(), { error: 'Unauthorized' });
    assert.equal(rest.requests, before, 'rejected requests are not served');
  });
});
