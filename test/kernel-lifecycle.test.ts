/**
 * Lifecycle: init and start in dependency order, stop in reverse; every phase bounded by the
 * plugin's timeout with an error naming the plugin; a failed boot leaves nothing running; routes
 * checked against prefixes and each other; services shared across plugins.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  BootError,
  createServiceRef,
  definePlugin,
  type LifecycleTimeouts,
  type Plugin,
} from '../core/index.ts';
import { createTestKernel, type TestKernel } from '../host/testing.ts';
import { captureLogger } from './support/capture-logger.ts';

const aRef = createServiceRef<{ name: string }>('test.a');
const bRef = createServiceRef<{ name: string }>('test.b');
const never = () => new Promise<never>(() => {});

interface Recorded {
  init?: () => unknown;
  start?: () => unknown;
  stop?: () => unknown;
  timeouts?: LifecycleTimeouts;
}

/**
 * Three plugins a ← b ← c (c requires b, b requires a) that write `phase:id` into `calls`;
 * `overrides` replaces one plugin's phase (called after it is recorded).
 */
function chain(calls: string[], overrides: Partial<Record<'a' | 'b' | 'c', Recorded>> = {}): Plugin[] {
  const record = (id: 'a' | 'b' | 'c', phase: 'init' | 'start' | 'stop') => {
    calls.push(`${phase}:${id}`);
    return overrides[id]?.[phase]?.();
  };
  const a = definePlugin({
    id: 'a',
    version: '1.0.0',
    provides: { a: aRef },
    timeouts: overrides.a?.timeouts ?? {},
    init: async () => {
      await record('a', 'init');
      return { services: { a: { name: 'a' } } };
    },
    start: async () => {
      await record('a', 'start');
    },
    stop: async () => {
      await record('a', 'stop');
    },
  });
  const b = definePlugin({
    id: 'b',
    version: '1.0.0',
    requires: { a: aRef },
    provides: { b: bRef },
    timeouts: overrides.b?.timeouts ?? {},
    init: async () => {
      await record('b', 'init');
      return { services: { b: { name: 'b' } } };
    },
    start: async () => {
      await record('b', 'start');
    },
    stop: async () => {
      await record('b', 'stop');
    },
  });
  const c = definePlugin({
    id: 'c',
    version: '1.0.0',
    requires: { b: bRef },
    timeouts: overrides.c?.timeouts ?? {},
    // The cast works around a typing bug: without `provides`, an async `init` does not type-check
    // (`Promise<void>` is not assignable to `ServicesOf<ServiceRefMap>`); a sync one does.
    init: (async () => {
      await record('c', 'init');
    }) as () => void,
    start: async () => {
      await record('c', 'start');
    },
    stop: async () => {
      await record('c', 'stop');
    },
  });
  return [c, a, b];
}

/**
 * Boots a fresh kernel that must fail and hands its BootError to `check` (the kernel is closed
 * afterwards). When it boots anyway, `probe` (a URL) says which plugin answers it.
 */
async function bootFailure(plugins: Plugin[], check: (err: BootError, t: TestKernel) => void | Promise<void>, probe?: string) {
  const t = await createTestKernel({ plugins, boot: false });
  try {
    const err = await t.kernel.boot().then(
      async () => {
        const answer = probe === undefined ? '' : `; GET ${probe} answers ${(await t.inject(probe)).body}`;
        return assert.fail(`expected the boot to fail, but it succeeded${answer}`);
      },
      (e: unknown) => e,
    );
    assert.ok(err instanceof BootError, `expected a BootError, got ${String(err)}`);
    await check(err, t);
  } finally {
    await t.close();
  }
}

describe('kernel lifecycle', () => {
  it('inits and starts in dependency order and stops in reverse', async () => {
    const calls: string[] = [];
    const t = await createTestKernel({ plugins: chain(calls) });
    try {
      assert.equal(t.kernel.state, 'running');
      assert.deepEqual(calls, ['init:a', 'init:b', 'init:c', 'start:a', 'start:b', 'start:c']);
    } finally {
      await t.close();
    }
    assert.deepEqual(calls.slice(6), ['stop:c', 'stop:b', 'stop:a']);
    assert.equal(t.kernel.state, 'stopped');
  });

  it('fails the boot naming the plugin when its init never resolves', async () => {
    const calls: string[] = [];
    await bootFailure(chain(calls, { b: { init: never, timeouts: { init: 50 } } }), (err, t) => {
      assert.equal(err.problems.length, 1);
      assert.equal(err.problems[0]!.plugin, 'b');
      assert.match(err.message, /plugin "b"/);
      assert.match(err.message, /init/);
      assert.match(err.message, /50 ms/);
      assert.deepEqual(calls, ['init:a', 'init:b', 'stop:a'], 'a was initialised, so it is stopped; c never ran');
      assert.equal(t.kernel.state, 'stopped');
    });
  });

  it('fails the boot naming the plugin when its start never resolves', async () => {
    const calls: string[] = [];
    await bootFailure(chain(calls, { c: { start: never, timeouts: { start: 50 } } }), (err, t) => {
      assert.equal(err.problems[0]!.plugin, 'c');
      assert.match(err.message, /plugin "c"/);
      assert.match(err.message, /start/);
      assert.match(err.message, /50 ms/);
      assert.deepEqual(calls.slice(-3), ['stop:c', 'stop:b', 'stop:a'], 'every initialised plugin is stopped');
      assert.equal(t.kernel.state, 'stopped');
    });
  });

  it('stops the already initialised plugins when an init fails', async () => {
    const calls: string[] = [];
    const boom = new Error('cannot reach the mail server');
    await bootFailure(
      chain(calls, {
        c: {
          init: () => {
            throw boom;
          },
        },
      }),
      (err, t) => {
        assert.deepEqual(calls, ['init:a', 'init:b', 'init:c', 'stop:b', 'stop:a']);
        assert.equal(err.problems[0]!.plugin, 'c');
        assert.match(err.message, /init failed: cannot reach the mail server/);
        assert.equal(err.cause, boom);
        assert.equal(t.kernel.state, 'stopped');
      },
    );
  });

  it('cuts a hanging stop at its timeout and still stops the others', async () => {
    const calls: string[] = [];
    const logs = captureLogger('info');
    const t = await createTestKernel({ plugins: chain(calls, { b: { stop: never, timeouts: { stop: 50 } } }), logger: logs.logger });
    await t.close();
    assert.deepEqual(calls.slice(6), ['stop:c', 'stop:b', 'stop:a']);
    assert.equal(t.kernel.state, 'stopped');
    const failure = logs.lines.find((l) => l.msg === 'plugin stop failed');
    assert.ok(failure, 'the hanging stop is logged');
    assert.equal(failure.plugin, 'b');
    assert.match(String((failure.err as { message?: string }).message), /plugin "b" stop did not finish within 50 ms/);
  });

  it('requires init to return every service the plugin provides', async () => {
    const partial = definePlugin({
      id: 'partial',
      version: '1.0.0',
      provides: { a: aRef, b: bRef },
      init: () => ({ services: { a: { name: 'a' } } }) as never,
    });
    await bootFailure([partial], (err) => {
      assert.equal(err.problems[0]!.plugin, 'partial');
      assert.match(err.message, /plugin "partial"/);
      assert.match(err.message, /"b"/);
    });
    const nothing = definePlugin({ id: 'nothing', version: '1.0.0', provides: { a: aRef }, init: (() => undefined) as never });
    await bootFailure([nothing], (err) => {
      assert.equal(err.problems[0]!.plugin, 'nothing');
      assert.match(err.message, /"a"/);
    });
  });

  describe('routes', () => {
    const withRoutes = (id: string, paths: string[], prefixes?: string[]) =>
      definePlugin({
        id,
        version: '1.0.0',
        ...(prefixes && { prefixes }),
        routes(router) {
          for (const path of paths) router.get(path, (http) => void (http.body = { id }));
        },
      });

    it('refuses a route outside the plugin prefixes', async () => {
      await bootFailure([withRoutes('shop', ['/v1/shop/items', '/v1/admin/users'])], (err) => {
        assert.equal(err.problems.length, 1);
        assert.equal(err.problems[0]!.plugin, 'shop');
        assert.match(err.message, /GET \/v1\/admin\/users/);
        assert.match(err.message, /outside/);
      });
      await bootFailure([withRoutes('shop', ['/v1/shopping'])], (err) => {
        assert.match(err.message, /\/v1\/shopping/, 'a sibling path sharing the prefix string is outside it');
      });
    });

    it('refuses two plugins registering the same method and path, naming both', async () => {
      const first = withRoutes('first', ['/v1/shared/items'], ['/v1/shared']);
      const second = withRoutes('second', ['/v1/shared/items'], ['/v1/shared']);
      await bootFailure([first, second], (err) => {
        assert.equal(err.problems.length, 1);
        const [problem] = err.problems as [NonNullable<(typeof err.problems)[0]>];
        assert.equal(problem.plugin, 'second');
        assert.equal(problem.path, 'GET /v1/shared/items');
        assert.match(problem.message, /"first"/);
      });
    });

    it('refuses the same path with differently named params', async () => {
      const first = withRoutes('first', ['/v1/shared/:id'], ['/v1/shared']);
      const second = withRoutes('second', ['/v1/shared/:key'], ['/v1/shared']);
      await bootFailure([first, second], (err) => {
        assert.equal(err.problems[0]!.plugin, 'second');
        assert.match(err.message, /\/v1\/shared\/:key/);
        assert.match(err.message, /\/v1\/shared\/:id/);
        assert.match(err.message, /"first"/);
      });
    });

    it('refuses the same path with differently named wildcards', async () => {
      const first = withRoutes('first', ['/v1/shared/files/*path'], ['/v1/shared']);
      const second = withRoutes('second', ['/v1/shared/files/*rest'], ['/v1/shared']);
      await bootFailure(
        [first, second],
        (err) => {
          assert.equal(err.problems[0]!.plugin, 'second');
          assert.match(err.message, /"first"/);
        },
        '/v1/shared/files/a/b',
      );
    });

    it('refuses the same path in a different letter case (the router ignores case)', async () => {
      const first = withRoutes('first', ['/v1/shared/items'], ['/v1/shared']);
      const second = withRoutes('second', ['/v1/shared/Items'], ['/v1/shared']);
      await bootFailure(
        [first, second],
        (err) => {
          assert.equal(err.problems[0]!.plugin, 'second');
          assert.match(err.message, /"first"/);
        },
        '/v1/shared/Items',
      );
    });

    it('stops the plugins it initialised when the routes fail the boot', async () => {
      const stopped: string[] = [];
      const bad = definePlugin({
        id: 'bad',
        version: '1.0.0',
        stop: () => void stopped.push('bad'),
        routes(router) {
          router.get('/elsewhere', (http) => void (http.body = {}));
        },
      });
      await bootFailure([bad], (err, t) => {
        assert.equal(err.problems[0]!.plugin, 'bad');
        assert.deepEqual([...stopped], ['bad'], 'the initialised plugin is stopped');
        assert.equal(t.kernel.state, 'stopped');
      });
    });
  });

  it("serves one plugin's services to another plugin's route handlers", async () => {
    const counterRef = createServiceRef<{ next(): number }>('test.counter');
    const counter = definePlugin({
      id: 'counter',
      version: '1.0.0',
      provides: { counter: counterRef },
      init: () => {
        let n = 0;
        return { services: { counter: { next: () => ++n } } };
      },
    });
    const reader = definePlugin({
      id: 'reader',
      version: '1.0.0',
      requires: { counter: counterRef },
      routes(router, ctx) {
        router.get('/v1/reader/next', (http) => {
          http.body = { value: ctx.services.counter.next() };
        });
      },
    });
    const t = await createTestKernel({ plugins: [reader, counter] });
    try {
      const first = await t.inject('/v1/reader/next');
      assert.equal(first.statusCode, 200, first.body);
      assert.deepEqual(first.json(), { value: 1 });
      assert.deepEqual((await t.inject('/v1/reader/next')).json(), { value: 2 });
    } finally {
      await t.close();
    }
  });
});
