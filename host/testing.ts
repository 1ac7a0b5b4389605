/**
 * `createTestKernel`: boots a kernel with the given plugins against a fresh, throw-away
 * PostgreSQL database (or the embedded one) and offers `inject()` to send requests without a
 * socket. Plugin authors use it the same way the project's own tests do.
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
  type Logger,
  type Plugin,
  type RuntimeMode,
} from '../core/index.ts';

export interface TestKernelOptions {
  readonly plugins: readonly (Plugin | ConfiguredPlugin)[];
  readonly http?: HttpSettings;
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

export async function createTestKernel(options: TestKernelOptions): Promise<TestKernel> {
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
      config: { plugins: options.plugins, ...(options.http && { http: options.http }) },
      env: options.env ?? {},
      mode: options.mode ?? 'test',
      logger: options.logger ?? createLogger({ level: (process.env.LOG_LEVEL as 'info' | undefined) ?? 'silent' }),
      database,
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
