/**
 * The plugin API's per-plugin place: state created by `init` and seen by routes, hooks, checks,
 * start and stop; nothing shared between two kernels; `onStop` clean-ups last-in-first-out after
 * `stop`; extension points open while plugins initialise and closed once the kernel runs; route
 * metadata declared by one plugin and read by another; log redaction declared by a plugin.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { coreServices, defineHook, definePlugin, defineRouteMeta, type ExtensionPoint } from '../core/index.ts';
import { createTestKernel, type TestKernel } from '../host/testing.ts';
import { captureLogger } from './support/capture-logger.ts';

const tick = defineHook<{ readonly n: number }>('counter.ticked');

/** A plugin whose state is a counter, used by every part of the plugin. */
function counterPlugin(events: string[]) {
  return definePlugin({
    id: 'counter',
    version: '1.0.0',
    requires: { routes: coreServices.routes },
    init(ctx) {
      const state = { count: 0, label: `kernel-${Math.random()}` };
      ctx.onStop(() => void events.push('cleanup 1 (registered first)'));
      ctx.onStop(async () => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        events.push('cleanup 2 (registered last)');
      });
      return { state };
    },
    routes(router, ctx) {
      router.post('/v1/counter', (http) => {
        ctx.state.count += 1;
        ctx.emit(tick, { n: ctx.state.count });
        http.body = { count: ctx.state.count, label: ctx.state.label };
      });
    },
    hooks: (on) => [on(tick, (payload, ctx) => void events.push(`hook saw ${payload.n} of ${ctx.state.count}`))],
    health: {
      counter: async (ctx) => (ctx.state.count > 100 ? { degraded: 'busy' } : undefined),
    },
    start(ctx) {
      events.push(`start with ${ctx.state.count}`);
    },
    stop(ctx) {
      events.push(`stop after ${ctx.state.count}`);
    },
  });
}

describe('per-plugin state', () => {
  const kernels: TestKernel[] = [];
  after(async () => {
    for (const k of kernels) await k.close();
  });

  it('is created by init and seen by routes, hooks, health checks, start and stop; clean-ups run after stop, last first', async () => {
    const events: string[] = [];
    const t = await createTestKernel({ plugins: [counterPlugin(events)], database: 'pglite' });
    kernels.push(t);
    assert.equal((await t.inject({ method: 'POST', url: '/v1/counter' })).json().count, 1);
    assert.equal((await t.inject({ method: 'POST', url: '/v1/counter' })).json().count, 2);
    await t.kernel.hooksSettled();
    assert.equal((await t.kernel.health.readiness()).checks.counter?.status, 'ok');
    await t.close();
    assert.ok(events.some((e) => /^hook saw 1 of [12]$/.test(e)) && events.includes('hook saw 2 of 2'), events.join(' | '));
    assert.equal(events[0], 'start with 0');
    assert.deepEqual(events.slice(-3), ['stop after 2', 'cleanup 2 (registered last)', 'cleanup 1 (registered first)']);
  });

  it('is not shared between two kernels of one process running the same plugin object', async () => {
    const plugin = counterPlugin([]);
    const one = await createTestKernel({ plugins: [plugin], database: 'pglite' });
    const two = await createTestKernel({ plugins: [plugin], database: 'pglite' });
    kernels.push(one, two);
    for (let i = 0; i < 3; i++) await one.inject({ method: 'POST', url: '/v1/counter' });
    const fromTwo = (await two.inject({ method: 'POST', url: '/v1/counter' })).json();
    const fromOne = (await one.inject({ method: 'POST', url: '/v1/counter' })).json();
    assert.equal(fromTwo.count, 1);
    assert.equal(fromOne.count, 4);
    assert.notEqual(fromOne.label, fromTwo.label);
  });

  it('cannot be read while routes are only being listed (describe() runs no init)', async () => {
    let readDuringRegistration: unknown = 'not tried';
    const plugin = definePlugin({
      id: 'eager',
      version: '1.0.0',
      init: () => ({ state: { ready: true } }),
      routes(router, ctx) {
        try {
          readDuringRegistration = ctx.state;
        } catch (err) {
          readDuringRegistration = err instanceof Error ? err.message : err;
        }
        router.get('/v1/eager', (http) => {
          http.body = ctx.state;
        });
      },
    });
    const t = await createTestKernel({ plugins: [plugin], database: 'pglite', boot: false });
    kernels.push(t);
    assert.deepEqual(t.kernel.describe()[0]?.routes.map((r) => r.path), ['/v1/eager']);
    assert.match(String(readDuringRegistration), /ctx\.state exists once init returned/);
  });

  it('a plugin whose init fails gets no stop, but the clean-ups it registered run', async () => {
    const events: string[] = [];
    const failing = definePlugin({
      id: 'failing',
      version: '1.0.0',
      init(ctx) {
        ctx.onStop(() => void events.push('cleanup'));
        throw new Error('no luck');
      },
      stop() {
        events.push('stop');
      },
    });
    await assert.rejects(createTestKernel({ plugins: [failing], database: 'pglite' }), /plugin "failing".*init failed: no luck/s);
    assert.deepEqual(events, ['cleanup']);
  });
});

describe('extension points', () => {
  it('are open while plugins initialise and closed once the kernel runs', async () => {
    let point: ExtensionPoint<string> | undefined;
    let guardsLater: (() => void) | undefined;
    const host = definePlugin({
      id: 'host',
      version: '1.0.0',
      requires: { http: coreServices.http },
      init(ctx) {
        point = ctx.extensionPoint<string>('greetings');
        point.add('hello');
        guardsLater = () => ctx.services.http.addGuard(async () => {});
        return { state: point };
      },
      routes(router, ctx) {
        router.get('/v1/host', (http) => {
          http.body = { greetings: ctx.state.items };
        });
      },
    });
    const t = await createTestKernel({ plugins: [host], database: 'pglite' });
    try {
      assert.deepEqual((await t.inject({ url: '/v1/host' })).json(), { greetings: ['hello'] });
      assert.equal(point?.name, 'host.greetings');
      assert.throws(() => point!.add('too late'), /extension point "host.greetings" is closed/);
      assert.throws(() => guardsLater!(), /extension point "core.http.guards" is closed/);
      assert.deepEqual((await t.inject({ url: '/v1/host' })).json(), { greetings: ['hello'] });
    } finally {
      await t.close();
    }
  });
});

describe('route metadata', () => {
  it('is declared by the plugin that owns a route and read by another, which the core does not interpret', async () => {
    const audience = defineRouteMeta<'staff' | 'public'>('example.audience');
    const seen: string[] = [];
    const reader = definePlugin({
      id: 'reader',
      version: '1.0.0',
      requires: { http: coreServices.http },
      init(ctx) {
        ctx.services.http.addGuard(async (http, route) => {
          seen.push(`${route.path}=${audience.read(route) ?? 'none'}`);
          if (audience.read(route) === 'staff' && http.get('x-staff') !== 'yes') http.throw(403);
        });
      },
    });
    const owner = definePlugin({
      id: 'owner',
      version: '1.0.0',
      routes(router) {
        router.get('/v1/owner/staff', { meta: [audience('staff')] }, (http) => void (http.body = { ok: true }));
        router.get('/v1/owner/open', (http) => void (http.body = { ok: true }));
      },
    });
    const t = await createTestKernel({ plugins: [reader, owner], database: 'pglite' });
    try {
      assert.equal((await t.inject({ url: '/v1/owner/staff' })).statusCode, 403);
      assert.equal((await t.inject({ url: '/v1/owner/staff', headers: { 'x-staff': 'yes' } })).statusCode, 200);
      assert.equal((await t.inject({ url: '/v1/owner/open' })).statusCode, 200);
      assert.deepEqual(seen, ['/v1/owner/staff=staff', '/v1/owner/staff=staff', '/v1/owner/open=none']);
      assert.throws(() => defineRouteMeta('NoDots'), /dotted lower-case/);
    } finally {
      await t.close();
    }
  });
});

describe('log redaction declared by a plugin', () => {
  it('censors the plugin’s field names in every line of the kernel, whichever plugin logs them', async () => {
    const logs = captureLogger('debug');
    const taxes = definePlugin({ id: 'taxes', version: '1.0.0', redact: ['taxNumber'] });
    const chatty = definePlugin({
      id: 'chatty',
      version: '1.0.0',
      init(ctx) {
        ctx.logger.info({ form: { taxNumber: '123-45-6789', name: 'Ada' } }, 'form received');
      },
    });
    const t = await createTestKernel({ plugins: [taxes, chatty], database: 'pglite', logger: logs.logger });
    await t.close();
    const line = logs.lines.find((l) => l.msg === 'form received') as { form: { taxNumber: string; name: string } } | undefined;
    assert.deepEqual(line?.form, { taxNumber: '[redacted]', name: 'Ada' });
    assert.doesNotMatch(logs.text(), /123-45-6789/);
  });
});
