/**
 * Dependency resolution through the public API: `new Kernel(...)` plans the boot without any I/O
 * and throws one BootError listing every problem; booting orders plugins by their services.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  BootError,
  coreServices,
  createLogger,
  createServiceRef,
  definePlugin,
  Kernel,
  KERNEL_VERSION,
  type BootProblem,
  type Plugin,
} from '../core/index.ts';
import { createTestKernel } from '../host/testing.ts';

interface Clock {
  now(): number;
}
const clockRef = createServiceRef<Clock>('test.clock');
const aRef = createServiceRef<{ a: true }>('test.a');
const bRef = createServiceRef<{ b: true }>('test.b');
const cRef = createServiceRef<{ c: true }>('test.c');

/** Plans a kernel (the constructor does no I/O: the database config is never used). */
function plan(plugins: readonly Plugin[]): Kernel {
  return new Kernel({
    config: { plugins },
    env: {},
    mode: 'test',
    logger: createLogger({ level: 'silent' }),
    database: { driver: 'pglite' },
  });
}

/** The BootError that planning these plugins throws. */
function planError(plugins: readonly Plugin[]): BootError {
  try {
    plan(plugins);
  } catch (err) {
    assert.ok(err instanceof BootError, `expected a BootError, got ${String(err)}`);
    return err;
  }
  return assert.fail('expected the plan to fail with a BootError');
}

const problemOf = (err: BootError, plugin: string): BootProblem => {
  const found = err.problems.find((p) => p.plugin === plugin);
  assert.ok(found, `no problem names plugin "${plugin}": ${err.message}`);
  return found;
};

describe('dependency graph', () => {
  it('refuses a missing required service, naming the plugin and the service', () => {
    const consumer = definePlugin({ id: 'consumer', version: '1.0.0', requires: { clock: clockRef } });
    const err = planError([consumer]);
    assert.equal(err.problems.length, 1);
    const problem = problemOf(err, 'consumer');
    assert.equal(problem.path, 'requires.clock');
    assert.match(problem.message, /"test\.clock"/);
    assert.match(err.message, /plugin "consumer"/);
    assert.match(err.message, /test\.clock/);
  });

  it('needs no plugin for a service the kernel provides itself', () => {
    const consumer = definePlugin({ id: 'consumer', version: '1.0.0', requires: { health: coreServices.health } });
    assert.deepEqual(plan([consumer]).plan.plugins.map((p) => p.plugin.id), ['consumer']);
  });

  it('names a two-plugin cycle in full', () => {
    const a = definePlugin({ id: 'a', version: '1.0.0', provides: { a: aRef }, requires: { b: bRef }, init: () => ({ services: { a: { a: true as const } } }) });
    const b = definePlugin({ id: 'b', version: '1.0.0', provides: { b: bRef }, requires: { a: aRef }, init: () => ({ services: { b: { b: true as const } } }) });
    const err = planError([a, b]);
    const cycles = err.problems.filter((p) => p.message.includes('cycle'));
    assert.equal(cycles.length, 1, err.message);
    assert.match(cycles[0]!.message, /a → b → a/);
  });

  it('names a longer cycle in full, once', () => {
    const a = definePlugin({ id: 'a', version: '1.0.0', provides: { a: aRef }, requires: { c: cRef }, init: () => ({ services: { a: { a: true as const } } }) });
    const b = definePlugin({ id: 'b', version: '1.0.0', provides: { b: bRef }, requires: { a: aRef }, init: () => ({ services: { b: { b: true as const } } }) });
    const c = definePlugin({ id: 'c', version: '1.0.0', provides: { c: cRef }, requires: { b: bRef }, init: () => ({ services: { c: { c: true as const } } }) });
    const err = planError([a, b, c]);
    const cycles = err.problems.filter((p) => p.message.includes('cycle'));
    assert.equal(cycles.length, 1, err.message);
    assert.match(cycles[0]!.message, /a → c → b → a/);
  });

  it('refuses two plugins providing the same service, naming both', () => {
    const first = definePlugin({ id: 'first', version: '1.0.0', provides: { clock: clockRef }, init: () => ({ services: { clock: { now: () => 1 } } }) });
    const second = definePlugin({ id: 'second', version: '1.0.0', provides: { clock: clockRef }, init: () => ({ services: { clock: { now: () => 2 } } }) });
    const err = planError([first, second]);
    assert.equal(err.problems.length, 1);
    const problem = problemOf(err, 'second');
    assert.match(problem.message, /"test\.clock"/);
    assert.match(problem.message, /"first"/);
  });

  it('refuses a plugin listed twice', () => {
    const dup = definePlugin({ id: 'dup', version: '1.0.0' });
    const err = planError([dup, dup]);
    assert.equal(err.problems.length, 1);
    assert.match(problemOf(err, 'dup').message, /twice/);
  });

  it('refuses a plugin whose kernel range this kernel does not satisfy', () => {
    const old = definePlugin({ id: 'old', version: '1.0.0', kernel: '^9.0.0' });
    const err = planError([old]);
    const problem = problemOf(err, 'old');
    assert.match(problem.message, /\^9\.0\.0/);
    assert.ok(problem.message.includes(KERNEL_VERSION), problem.message);
    // and a range that includes this kernel is fine
    const current = definePlugin({ id: 'current', version: '1.0.0', kernel: `^${KERNEL_VERSION}` });
    assert.equal(plan([current]).plan.plugins.length, 1);
  });

  it('reports every graph problem of a config in one error', () => {
    const consumer = definePlugin({ id: 'consumer', version: '1.0.0', requires: { clock: clockRef } });
    const old = definePlugin({ id: 'old', version: '1.0.0', kernel: '^9.0.0' });
    const dup = definePlugin({ id: 'dup', version: '1.0.0' });
    const err = planError([consumer, old, dup, dup]);
    assert.deepEqual(new Set(err.problems.map((p) => p.plugin)), new Set(['consumer', 'old', 'dup']));
    assert.match(err.message, /^3 problems:/);
  });

  it('initialises plugins in dependency order even when listed in reverse', async () => {
    const inits: string[] = [];
    const a = definePlugin({
      id: 'a',
      version: '1.0.0',
      provides: { a: aRef },
      init: () => {
        inits.push('a');
        return { services: { a: { a: true as const } } };
      },
    });
    const b = definePlugin({
      id: 'b',
      version: '1.0.0',
      requires: { a: aRef },
      provides: { b: bRef },
      init: (ctx) => {
        assert.deepEqual(ctx.services.a, { a: true });
        inits.push('b');
        return { services: { b: { b: true as const } } };
      },
    });
    const c = definePlugin({
      id: 'c',
      version: '1.0.0',
      requires: { b: bRef },
      init: (ctx) => {
        assert.deepEqual(ctx.services.b, { b: true });
        inits.push('c');
      },
    });
    const t = await createTestKernel({ plugins: [c, b, a] });
    try {
      assert.deepEqual(inits, ['a', 'b', 'c']);
      assert.deepEqual(t.kernel.plan.plugins.map((p) => p.plugin.id), ['a', 'b', 'c']);
      const described = Object.fromEntries(t.kernel.describe().map((d) => [d.id, d.dependsOn]));
      assert.deepEqual(described, { a: [], b: ['a'], c: ['b'] });
    } finally {
      await t.close();
    }
  });

  describe('optional services', () => {
    const seen: { clock: Clock | undefined }[] = [];
    const user = definePlugin({
      id: 'user',
      version: '1.0.0',
      optional: { clock: clockRef },
      init: (ctx) => {
        seen.push({ clock: ctx.services.clock });
      },
      routes(router, ctx) {
        router.get('/v1/user/now', (http) => {
          http.body = { now: ctx.services.clock?.now() ?? null };
        });
      },
    });
    const clock = definePlugin({ id: 'clock', version: '1.0.0', provides: { clock: clockRef }, init: () => ({ services: { clock: { now: () => 42 } } }) });

    it('are undefined when no plugin provides them', async () => {
      seen.length = 0;
      const t = await createTestKernel({ plugins: [user] });
      try {
        assert.equal(seen.length, 1);
        assert.equal(seen[0]!.clock, undefined);
        const res = await t.inject('/v1/user/now');
        assert.equal(res.statusCode, 200, res.body);
        assert.deepEqual(res.json(), { now: null });
      } finally {
        await t.close();
      }
    });

    it('are provided, and their provider initialised first, when present', async () => {
      seen.length = 0;
      const t = await createTestKernel({ plugins: [user, clock] });
      try {
        assert.deepEqual(t.kernel.plan.plugins.map((p) => p.plugin.id), ['clock', 'user']);
        assert.equal(seen.length, 1);
        assert.equal(seen[0]!.clock?.now(), 42);
        const res = await t.inject('/v1/user/now');
        assert.deepEqual(res.json(), { now: 42 });
      } finally {
        await t.close();
      }
    });
  });
});
