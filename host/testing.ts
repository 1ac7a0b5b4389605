/**
 * `createTestKernel`: boots a kernel with the given plugins against a fresh, throw-away
 * PostgreSQL database (or the embedded one) and offers `inject()` to send requests without a
 * socket. Plugin authors use it the same way the project's own tests do: `services` replaces a
 * plugin's dependencies (or a core service) with fakes, `t.service(ref)` reads what a ref
 * resolves to. `pluginConformance` (./conformance.ts, also exported here) checks a plugin against
 * the rules every plugin keeps.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { inject as lightInject, type InjectOptions, type Response } from 'light-my-request';
import pg from 'pg';
import {
  createLogger,
  Kernel,
  type ConfiguredPlugin,
  type DatabaseConfig,
  type Env,
  type HttpSettings,
  type OutageSettings,
  type Logger,
  type Plugin,
  type RuntimeMode,
  type ServiceOf,
  type ServiceRef,
} from '../core/index.ts';

export { pluginConformance, type ConformanceOptions } from './conformance.ts';

declare const checkedFake: unique symbol;

/**
 * A fake of a service, made by `fake(ref, impl)`: the ref and an implementation of the ref's
 * service type (checked where it was made).
 */
export type ServiceFake<T = unknown> = readonly [ref: ServiceRef<T>, impl: T] & { readonly [checkedFake]: true };

/** Pairs a ref with a fake implementation; `impl` must be of the ref's service type. */
export function fake<T>(ref: ServiceRef<T>, impl: NoInfer<T>): ServiceFake<T> {
  return Object.freeze([ref, impl]) as unknown as ServiceFake<T>;
}

/** `[ref, impl]` pairs (or `fake(ref, impl)`), each impl checked against its own ref's service type. */
export type ServiceFakes<Refs extends readonly ServiceRef<unknown>[]> = {
  readonly [K in keyof Refs]: readonly [ref: Refs[K], impl: ServiceOf<Refs[K]>];
};

export interface TestKernelOptions<Refs extends readonly ServiceRef<unknown>[] = readonly ServiceRef<unknown>[]> {
  readonly plugins: readonly (Plugin | ConfiguredPlugin)[];
  /**
   * Services set by ref before any plugin initialises: fakes of a plugin's dependencies (they count
   * as provided, so the providers need not be enabled) or of the kernel's own services. No enabled
   * plugin may provide one of them too. `[[ref, impl], …]` or `[fake(ref, impl), …]`.
   */
  readonly services?: ServiceFakes<Refs>;
  readonly http?: HttpSettings;
  /** How dependency outages are summarised (tests shorten the interval). */
  readonly outages?: OutageSettings;
  readonly env?: Env;
  readonly mode?: RuntimeMode;
  /** `postgresql` (default when reachable), `pglite` (in memory), or a database config to use as is. */
  readonly database?: 'postgresql' | 'pglite' | DatabaseConfig;
  readonly logger?: Logger;
  /** Boot right away (default true). */
  readonly boot?: boolean;
}

export interface TestKernel {
  readonly kernel: Kernel;
  /** The database config the kernel uses (a fresh database per test kernel). */
  readonly database: DatabaseConfig;
  inject(options: InjectOptions | string): Promise<Response>;
  /**
   * The implementation `ref` resolves to in this kernel: what its provider's `init` returned (once
   * booted), the fake given in `services`, or the kernel's own. Throws when nothing provides it.
   */
  service<T>(ref: ServiceRef<T>): T;
  /** Stops the kernel and drops its database. */
  close(): Promise<void>;
}

/** Where throw-away test databases are created: `TEST_DATABASE_URL`, or the local server. */
export const testDatabaseAdminUrl = (env: Env = process.env): string =>
  env.TEST_DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/test';

/** Which database tests use: the local PostgreSQL unless `EMPULSE_TEST_DB=pglite` (set when it is unreachable). */
export const defaultTestDriver = (env: Env = process.env): 'postgresql' | 'pglite' =>
  env.EMPULSE_TEST_DB === 'pglite' ? 'pglite' : 'postgresql';

/** Creates an empty PostgreSQL database; returns its URL and a function that drops it. */
export async function createScratchDatabase(adminUrl = testDatabaseAdminUrl()): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `empulse_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      try {
        await c.query(`drop database if exists ${name} with (force)`);
      } finally {
        await c.end();
      }
    },
  };
}

export async function createTestKernel<const Refs extends readonly ServiceRef<unknown>[] = []>(
  options: TestKernelOptions<Refs>,
): Promise<TestKernel> {
  const choice = options.database ?? defaultTestDriver();
  let database: DatabaseConfig;
  let drop = async () => {};
  if (choice === 'postgresql') {
    const scratch = await createScratchDatabase();
    database = { driver: 'postgresql', url: scratch.url, poolMax: 5 };
    drop = scratch.drop;
  } else if (choice === 'pglite') {
    database = { driver: 'pglite' };
  } else {
    database = choice;
  }
  let kernel: Kernel;
  try {
    kernel = new Kernel({
      config: { plugins: options.plugins, ...(options.http && { http: options.http }), ...(options.outages && { outages: options.outages }) },
      env: options.env ?? {},
      mode: options.mode ?? 'test',
      logger: options.logger ?? createLogger({ level: (process.env.LOG_LEVEL as 'info' | undefined) ?? 'silent' }),
      database,
      ...(options.services && { services: options.services as readonly (readonly [ServiceRef<unknown>, unknown])[] }),
    });
    if (options.boot ?? true) {
      try {
        await kernel.boot();
      } catch (err) {
        await kernel.stop();
        throw err;
      }
    }
  } catch (err) {
    await drop();
    throw err;
  }
  let closed = false;
  return {
    kernel,
    database,
    inject: (req) => lightInject(kernel.callback(), req),
    service: <T>(ref: ServiceRef<T>): T => {
      const impl = kernel.services.get(ref);
      if (impl === undefined) {
        const why = kernel.state === 'created' ? ' (plugins provide their services once the kernel has booted)' : '';
        throw new Error(
          `service "${ref.id}" is not provided in this test kernel: no enabled plugin provides it, no fake was given for it in \`services\`, and it is not a core service${why}`,
        );
      }
      return impl as T;
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await kernel.stop();
      await drop();
    },
  };
}

/** A TCP port that was free a moment ago on 127.0.0.1 (for servers a test or bench starts). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}
