/**
 * Plugin options: valibot strict objects validated at boot (operator options over values from the
 * environment over schema defaults), every problem of every plugin reported in one BootError, and
 * secrets redacted wherever the config is printed.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as v from 'valibot';
import {
  BootError,
  configure,
  createLogger,
  definePlugin,
  Kernel,
  Migration,
  type BootProblem,
  type ConfiguredPlugin,
  type Env,
  type Plugin,
  type RuntimeMode,
} from '../core/index.ts';
import { createTestKernel } from '../host/testing.ts';

/** Plans a kernel (the constructor validates options and does no I/O). */
function plan(plugins: readonly (Plugin | ConfiguredPlugin)[], env: Env = {}, mode: RuntimeMode = 'test'): Kernel {
  return new Kernel({ config: { plugins }, env, mode, logger: createLogger({ level: 'silent' }), database: { driver: 'pglite' } });
}

function planError(plugins: readonly (Plugin | ConfiguredPlugin)[], env: Env = {}, mode: RuntimeMode = 'test'): BootError {
  try {
    plan(plugins, env, mode);
  } catch (err) {
    assert.ok(err instanceof BootError, `expected a BootError, got ${String(err)}`);
    return err;
  }
  return assert.fail('expected the plan to fail with a BootError');
}

/** Options as an operator may write them, typos included (no compile-time check). */
const untyped = (plugin: Plugin, options: unknown): ConfiguredPlugin => ({ plugin, options });

const configOf = (kernel: Kernel, id: string) => kernel.plan.plugins.find((p) => p.plugin.id === id)!.config;

const mailer = definePlugin({
  id: 'mailer',
  version: '1.0.0',
  config: v.strictObject({
    from: v.optional(v.pipe(v.string(), v.email()), 'noreply@example.com'),
    retries: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0)), 3),
    apiKey: v.optional(v.string()),
    smtp: v.optional(v.strictObject({ host: v.string(), port: v.optional(v.number(), 587) })),
  }),
  fromEnv: (env) => ({
    from: env.EMAIL_FROM,
    retries: env.EMAIL_RETRIES === undefined ? undefined : Number(env.EMAIL_RETRIES),
    apiKey: env.MAILER_API_KEY,
  }),
  validate: (config, mode) =>
    mode === 'production' && config.apiKey === undefined ? [{ path: 'MAILER_API_KEY', message: 'is required in production' }] : [],
});

const limiter = definePlugin({
  id: 'limiter',
  version: '1.0.0',
  config: v.strictObject({ max: v.optional(v.pipe(v.number(), v.minValue(1)), 10) }),
});

describe('plugin options', () => {
  it('fails on a typo with the plugin id, the path and "unknown option"', () => {
    const err = planError([untyped(mailer, { form: 'me@example.com' })]);
    assert.equal(err.problems.length, 1);
    const [problem] = err.problems as [BootProblem];
    assert.equal(problem.plugin, 'mailer');
    assert.equal(problem.path, 'form');
    assert.equal(problem.message, 'unknown option (did you mean "from"?)');
    assert.match(err.message, /plugin "mailer", form: unknown option/);
    // Nothing close: no guess.
    assert.equal(planError([untyped(mailer, { transportation: 'smtp' })]).problems[0]!.message, 'unknown option (is it a typo?)');
  });

  it('names the full path of a typo in a nested options object', () => {
    const err = planError([untyped(mailer, { smtp: { host: 'mail.example.com', prot: 25 } })]);
    assert.deepEqual(
      err.problems.map((p) => [p.plugin, p.path]),
      [['mailer', 'smtp.prot']],
    );
    assert.equal(err.problems[0]!.message, 'unknown option (did you mean "port"?)', 'suggested from the nested object\'s own options');
  });

  it('does not call a nested options object of the wrong type an unknown option', () => {
    const err = planError([untyped(mailer, { smtp: 'mail.example.com' })]);
    assert.equal(err.problems.length, 1);
    const [problem] = err.problems as [BootProblem];
    assert.equal(problem.path, 'smtp');
    assert.doesNotMatch(problem.message, /unknown option/, 'smtp is a known option with a value of the wrong type');
  });

  it('refuses options that are not an object', () => {
    const err = planError([untyped(limiter, 'max=5')]);
    assert.equal(err.problems[0]?.plugin, 'limiter');
    assert.match(err.problems[0]!.message, /must be an object/);
  });

  it("reports every plugin's problems at once, in one BootError", () => {
    const guard = definePlugin({
      id: 'guard',
      version: '1.0.0',
      validate: () => [{ path: 'GUARD_KEY', message: 'must be set' }],
    });
    const err = planError([untyped(mailer, { from: 'not-an-email', retires: 2 }), untyped(limiter, { max: 0 }), guard]);
    const found = err.problems.map((p) => `${p.plugin} ${p.path}`).sort();
    assert.deepEqual(found, ['guard GUARD_KEY', 'limiter max', 'mailer from', 'mailer retires']);
    assert.match(err.message, /^4 problems:/);
    assert.match(err.message, /plugin "limiter", max: /);
  });

  it('uses values from the environment, under the schema defaults', () => {
    const kernel = plan([mailer], { EMAIL_FROM: 'env@example.com', EMAIL_RETRIES: '7' });
    assert.deepEqual(configOf(kernel, 'mailer'), { from: 'env@example.com', retries: 7 });
    const defaults = plan([mailer], {});
    assert.deepEqual(configOf(defaults, 'mailer'), { from: 'noreply@example.com', retries: 3 });
  });

  it("lets the operator's options override the environment", () => {
    const kernel = plan([configure(mailer, { from: 'operator@example.com' })], { EMAIL_FROM: 'env@example.com', EMAIL_RETRIES: '7' });
    assert.deepEqual(configOf(kernel, 'mailer'), { from: 'operator@example.com', retries: 7 });
  });

  it('validates values from the environment too', () => {
    const err = planError([mailer], { EMAIL_RETRIES: 'many' });
    assert.deepEqual(
      err.problems.map((p) => [p.plugin, p.path]),
      [['mailer', 'retries']],
    );
  });

  it("hands the validated options to the plugin's code", async () => {
    let seen: unknown;
    const probe = definePlugin({
      id: 'probe',
      version: '1.0.0',
      config: v.strictObject({ greeting: v.optional(v.string(), 'hello'), times: v.optional(v.number(), 1) }),
      fromEnv: (env) => ({ times: env.PROBE_TIMES === undefined ? undefined : Number(env.PROBE_TIMES) }),
      init: (ctx) => {
        seen = ctx.config;
      },
    });
    const t = await createTestKernel({ plugins: [configure(probe, { greeting: 'hi' })], env: { PROBE_TIMES: '2' } });
    try {
      assert.deepEqual(seen, { greeting: 'hi', times: 2 });
    } finally {
      await t.close();
    }
  });

  it("reports the plugin's own validate problems (given the mode)", () => {
    const err = planError([mailer], {}, 'production');
    assert.deepEqual(err.problems, [{ plugin: 'mailer', path: 'MAILER_API_KEY', message: 'is required in production' }]);
    assert.doesNotThrow(() => plan([mailer], {}, 'development'));
    assert.doesNotThrow(() => plan([mailer], { MAILER_API_KEY: 're_123' }, 'production'));
  });

  describe('secrets', () => {
    const vault = definePlugin({
      id: 'vault',
      version: '1.0.0',
      config: v.strictObject({
        url: v.string(),
        signingMaterial: v.string(),
        password: v.optional(v.string()),
        apiKey: v.optional(v.string()),
        clientSecret: v.optional(v.string()),
        accessToken: v.optional(v.string()),
        upstream: v.optional(v.strictObject({ host: v.string(), password: v.string() })),
      }),
      secrets: ['signingMaterial'],
    });

    it('are redacted in describe(): declared secrets and secret-looking keys', () => {
      const kernel = plan([
        configure(vault, {
          url: 'https://vault.example.com',
          signingMaterial: 'declared-secret-1',
          password: 'hunter2-pw',
          apiKey: 'sk_live_123',
          clientSecret: 'cs-456',
          accessToken: 'at-789',
        }),
      ]);
      const [described] = kernel.describe();
      assert.deepEqual(described!.config, {
        url: 'https://vault.example.com',
        signingMaterial: '[redacted]',
        password: '[redacted]',
        apiKey: '[redacted]',
        clientSecret: '[redacted]',
        accessToken: '[redacted]',
      });
      // the plugin itself still sees the real values
      assert.equal(configOf(kernel, 'vault').signingMaterial, 'declared-secret-1');
    });

    it('leave numbers and flags under secret-looking names printed: they are settings', () => {
      const tuned = definePlugin({
        id: 'tuned',
        version: '1.0.0',
        config: v.strictObject({
          accessTokenTtlSeconds: v.number(),
          argon2: v.strictObject({ passes: v.number(), memoryKiB: v.number() }),
          rotateRefreshTokens: v.boolean(),
          tokenPepper: v.string(),
        }),
      });
      const kernel = plan([configure(tuned, { accessTokenTtlSeconds: 900, argon2: { passes: 2, memoryKiB: 19456 }, rotateRefreshTokens: true, tokenPepper: 'pepper-1' })]);
      assert.deepEqual(kernel.describe()[0]!.config, {
        accessTokenTtlSeconds: 900,
        argon2: { passes: 2, memoryKiB: 19456 },
        rotateRefreshTokens: true,
        tokenPepper: '[redacted]',
      });
    });

    it('are redacted in describe() when nested in an options object', () => {
      const kernel = plan([
        configure(vault, { url: 'https://vault.example.com', signingMaterial: 's', upstream: { host: 'db.internal', password: 'nested-hunter2' } }),
      ]);
      const printed = JSON.stringify(kernel.describe());
      assert.ok(printed.includes('db.internal'), 'non-secret nested values are kept');
      assert.ok(!printed.includes('nested-hunter2'), `a nested password is printed: ${printed}`);
    });

    it('are not echoed in the BootError when a secret fails validation', () => {
      const strict = definePlugin({
        id: 'strict',
        version: '1.0.0',
        config: v.strictObject({ apiKey: v.pipe(v.string(), v.regex(/^re_[A-Za-z0-9]+$/)) }),
        secrets: ['apiKey'],
      });
      const err = planError([configure(strict, { apiKey: 'sk_live_very_secret' })]);
      assert.equal(err.problems[0]?.path, 'apiKey');
      assert.ok(!err.message.includes('sk_live_very_secret'), `the secret is printed: ${err.message}`);
    });
  });

  describe('definePlugin', () => {
    class Init extends Migration {
      override up(): void {
        this.addSql('select 1');
      }
    }

    it('rejects a config that is not a strict object', () => {
      assert.throws(
        () => definePlugin({ id: 'loose', version: '1.0.0', config: v.object({ a: v.string() }) as never }),
        (err: unknown) => err instanceof TypeError && /"loose"/.test(err.message) && /strictObject/.test(err.message),
      );
      assert.throws(
        () => definePlugin({ id: 'looser', version: '1.0.0', config: v.looseObject({ a: v.string() }) as never }),
        /strictObject/,
      );
    });

    it('rejects a migration not named after the plugin', () => {
      assert.throws(
        () => definePlugin({ id: 'notes', version: '1.0.0', migrations: [{ name: '0001_init', class: Init }] }),
        (err: unknown) => err instanceof TypeError && err.message.includes('"0001_init"') && err.message.includes('notes/'),
      );
      assert.throws(
        () => definePlugin({ id: 'notes', version: '1.0.0', migrations: [{ name: 'notesx/0001_init', class: Init }] }),
        /"notesx\/0001_init"/,
      );
      const ok = definePlugin({ id: 'notes', version: '1.0.0', migrations: [{ name: 'notes/0001_init', class: Init }] });
      assert.deepEqual(ok.migrations?.map((m) => m.name), ['notes/0001_init']);
    });
  });
});
