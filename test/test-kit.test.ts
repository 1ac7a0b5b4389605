/**
 * The test kit plugin authors use (`empulse/testing`): `createTestKernel({ services })` replaces a
 * plugin's dependencies, or a core service, with fakes set before any plugin initialises (the
 * fake is what the plugin's `ctx.services` sees); `t.service(ref)` is what a ref resolves to in
 * that kernel. Fakes are checked against their ref's service type at compile time.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BootError, coreServices, createServiceRef, definePlugin, type HealthService } from '../core/index.ts';
import { createTestKernel, fake, type TestKernel } from '../host/testing.ts';
import { healthPlugin } from '../plugins/health/index.ts';

interface Greeter {
  greet(name: string): string;
}
const greeterRef = createServiceRef<Greeter>('kit.greeter');

/** What the consumer's context saw, per kernel: the fake or the provider's service. */
const seen: Greeter[] = [];

const consumer = definePlugin({
  id: 'kit-consumer',
  version: '1.0.0',
  requires: { greeter: greeterRef },
  init(ctx) {
    seen.push(ctx.services.greeter);
  },
  routes(router, ctx) {
    router.get('/v1/kit-consumer/hello', (http) => {
      http.body = { message: ctx.services.greeter.greet('Ada') };
    });
  },
});

const provider = definePlugin({
  id: 'kit-provider',
  version: '1.0.0',
  provides: { greeter: greeterRef },
  init: () => ({ services: { greeter: { greet: (name: string) => `Hello, ${name}` } } }),
});

describe('test kit: fakes of a plugin\'s dependencies', () => {
  let t: TestKernel;
  const greeter: Greeter = { greet: (name) => `fake hello, ${name}` };

  before(async () => {
    seen.length = 0;
    t = await createTestKernel({ plugins: [consumer], services: [fake(greeterRef, greeter)] });
  });
  after(() => t.close());

  it('boots the plugin without the provider: the fake counts as provided', () => {
    assert.deepEqual(t.kernel.plan.plugins.map((p) => p.plugin.id), ['kit-consumer']);
  });

  it('hands the fake itself to the plugin\'s ctx.services, and its routes use it', async () => {
    assert.equal(seen.length, 1);
    assert.equal(seen[0], greeter);
    const res = await t.inject('/v1/kit-consumer/hello');
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { message: 'fake hello, Ada' });
  });

  it('t.service(ref) returns the fake', () => {
    assert.equal(t.service(greeterRef), greeter);
  });

  it('t.service(ref) throws a clear error for a ref nothing provides', () => {
    const nobody = createServiceRef<{ x: number }>('kit.nobody');
    assert.throws(() => t.service(nobody), /service "kit\.nobody" is not provided in this test kernel/);
  });

  it('refuses a fake of a service an enabled plugin provides too', async () => {
    await assert.rejects(
      createTestKernel({ plugins: [provider, consumer], services: [[greeterRef, greeter]] }),
      (err: unknown) => err instanceof BootError && /kit-provider.*"kit\.greeter" is also given as a fake/s.test(err.message),
    );
  });
});

describe('test kit: t.service with real providers', () => {
  let t: TestKernel;

  before(async () => {
    seen.length = 0;
    t = await createTestKernel({ plugins: [consumer, provider] });
  });
  after(() => t.close());

  it('returns the provider\'s service, the very object its consumers see', async () => {
    const greeter = t.service(greeterRef);
    assert.equal(greeter.greet('Grace'), 'Hello, Grace');
    assert.equal(seen[0], greeter);
    assert.deepEqual((await t.inject('/v1/kit-consumer/hello')).json(), { message: 'Hello, Ada' });
  });

  it('returns the kernel\'s own services', () => {
    assert.equal(t.service(coreServices.health), t.kernel.health);
  });

  it('says when a kernel has not booted yet', async () => {
    const idle = await createTestKernel({ plugins: [provider], boot: false });
    try {
      assert.throws(() => idle.service(greeterRef), /"kit\.greeter" is not provided.*once the kernel has booted/);
    } finally {
      await idle.close();
    }
  });
});

describe('test kit: fakes of core services', () => {
  let t: TestKernel;
  const health: HealthService = {
    readiness: async () => ({ status: 'fail', checks: { upstream: { status: 'fail', latencyMs: 1, error: 'unreachable' } } }),
    isShuttingDown: () => false,
  };

  before(async () => {
    t = await createTestKernel({ plugins: [healthPlugin], services: [[coreServices.health, health]] });
  });
  after(() => t.close());

  it('gives the fake to the plugins that require the core service', async () => {
    const res = await t.inject('/health/ready');
    assert.equal(res.statusCode, 503);
    assert.deepEqual(res.json().checks, { upstream: { status: 'fail', latencyMs: 1, error: 'unreachable' } });
    assert.equal(t.service(coreServices.health), health);
  });
});

/** Compile-time checks only (`npm run typecheck`): a fake must be of its ref's service type. */
export function fakesAreTypeChecked(t: TestKernel): void {
  // @ts-expect-error: greet takes a string
  void createTestKernel({ plugins: [consumer], services: [[greeterRef, { greet: (n: number) => n }]] });
  // @ts-expect-error: the fake lacks greet
  fake(greeterRef, { hello: () => 'hi' });
  // @ts-expect-error: a pair's impl is checked against its own ref, not another's
  void createTestKernel({ plugins: [consumer], services: [[greeterRef, { greet: (n: string) => n }], [coreServices.health, { greet: (n: string) => n }]] });
  const greeter: Greeter = t.service(greeterRef);
  void greeter;
}
