/**
 * The fallback logic on its own: a shared backend that fails, then comes back. (The HTTP tests
 * show the failure half against a dead Redis and a stopped Upstash endpoint; a backend cannot be
 * brought back on the same address there, so recovery is shown here with a scripted backend.)
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Decision, Limiter, Policy } from '../plugins/ratelimit/limiter.ts';
import { MemoryLimiter } from '../plugins/ratelimit/memory-limiter.ts';
import { ResilientLimiter } from '../plugins/ratelimit/resilient-limiter.ts';
import { captureLogger } from './support/capture-logger.ts';

class ScriptedBackend implements Limiter {
  up = true;
  calls = 0;
  async limit(_key: string, policy: Policy): Promise<Decision> {
    this.calls++;
    if (!this.up) throw new Error('connection refused');
    return { success: true, limit: policy.limit, remaining: policy.limit - 1, reset: Date.now() + 1000 };
  }
}

describe('rate-limit fallback', () => {
  it('enforces memory limits while the backend is down, warns once, and switches back by itself', async () => {
    const logs = captureLogger('info');
    const backend = new ScriptedBackend();
    const limiter = new ResilientLimiter(backend, new MemoryLimiter(), logs.logger);
    const policy = { group: 'g', limit: 2, windowSeconds: 60 };

    assert.equal((await limiter.limit('k', policy)).remaining, 1);
    assert.equal(limiter.degraded, undefined);

    backend.up = false;
    const down = [];
    for (let i = 0; i < 3; i++) down.push((await limiter.limit('k', policy)).success);
    assert.deepEqual(down, [true, true, false], 'the memory limit applies while the backend is down');
    assert.match(limiter.degraded ?? '', /connection refused/);
    assert.equal(logs.lines.filter((l) => l.level === 'warn').length, 1, 'one warning, not one per request');

    backend.up = true;
    assert.equal((await limiter.limit('k', policy)).success, true);
    assert.equal(limiter.degraded, undefined, 'healthy again after the first success');
    assert.ok(logs.lines.some((l) => /back/.test(String(l.msg))));
  });
});
