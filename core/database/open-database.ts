/**
 * Opens MikroORM on the configured driver with every enabled plugin's entities and migrations,
 * and wires transaction events to the hook bus (hooks wait for their transaction's commit).
 */
import type { EntitySchema, EventSubscriber, MikroORM, Options, TransactionEventArgs } from '@mikro-orm/core';
import { Migrator } from '@mikro-orm/migrations';
import type { SqlEntityManager } from '@mikro-orm/sql';
import type { Logger } from '../logging/logger.ts';
import type { Database, DatabaseConfig, NamedStatement, PoolStats } from './database.ts';

/** See DatabaseConfig.acquireTimeoutMs. */
export const DEFAULT_ACQUIRE_TIMEOUT_MS = 5000;

/** The counters of pg's Pool we read (kept structural: the core does not import pg). */
interface PgPool {
  readonly totalCount: number;
  readonly idleCount: number;
  readonly waitingCount: number;
  query(config: { readonly name?: string; readonly text: string; readonly values: unknown[] }): Promise<{ readonly rows: object[] }>;
}

/** The part of PGlite's API `query` uses. */
interface PgliteQuery {
  query(text: string, params: unknown[]): Promise<{ readonly rows: object[] }>;
}
import type { MigrationEntry } from './migration-entry.ts';

/**
 * Reports commits and rollbacks to the hook bus, telling a savepoint's release apart from a real
 * commit. MikroORM announces a savepoint with `beforeTransactionStart(enclosing)` then
 * `afterTransactionStart(savepoint)` on the same EntityManager, which links the two.
 */
function transactionTracker(options: Pick<OpenDatabaseOptions, 'onCommit' | 'onRollback'>): EventSubscriber {
  const opening = new WeakMap<object, object>(); // em → enclosing transaction, between the two events
  const enclosingOf = new WeakMap<object, object>(); // savepoint → enclosing transaction
  return {
    beforeTransactionStart: (args: TransactionEventArgs) => {
      if (args.transaction) opening.set(args.em, args.transaction as object);
    },
    afterTransactionStart: (args: TransactionEventArgs) => {
      const enclosing = opening.get(args.em);
      opening.delete(args.em);
      if (enclosing && args.transaction && 'savepointName' in (args.transaction as object)) {
        enclosingOf.set(args.transaction as object, enclosing);
      }
    },
    afterTransactionCommit: (args: TransactionEventArgs) => {
      if (args.transaction) options.onCommit(args.transaction as object, enclosingOf.get(args.transaction as object));
    },
    afterTransactionRollback: (args: TransactionEventArgs) => {
      if (args.transaction) options.onRollback(args.transaction as object);
    },
  };
}

export const MIGRATIONS_TABLE = 'empulse_migrations';

export interface OpenDatabaseOptions {
  readonly config: DatabaseConfig;
  readonly entities: readonly EntitySchema[];
  readonly migrations: readonly MigrationEntry[];
  readonly logger: Logger;
  /** `enclosing` is set when `tx` was a savepoint (its events now belong to the enclosing one). */
  readonly onCommit: (tx: object, enclosing: object | undefined) => void;
  readonly onRollback: (tx: object) => void;
}

export interface OpenedDatabase extends Database {
  close(): Promise<void>;
}

export async function openDatabase(options: OpenDatabaseOptions): Promise<OpenedDatabase> {
  const { config, logger } = options;
  const common = {
    entities: [...options.entities],
    extensions: [Migrator],
    migrations: {
      migrationsList: [...options.migrations],
      tableName: MIGRATIONS_TABLE,
      snapshot: false,
      transactional: true,
      allOrNothing: true,
      silent: true,
    },
    subscribers: [transactionTracker(options)],
    // Entities are discovered from the list we pass; no folder scanning (bundles, Deno).
    discovery: { warnWhenNoEntities: false },
    debug: false,
    allowGlobalContext: false,
  } satisfies Partial<Options>;

  let orm: MikroORM;
  let poolStats: () => PoolStats | undefined = () => undefined;
  let query: (statement: NamedStatement, params: readonly unknown[]) => Promise<object[]>;
  if (config.driver === 'postgresql') {
    const { MikroORM: PgOrm } = await import('@mikro-orm/postgresql');
    orm = await PgOrm.init({
      ...common,
      clientUrl: config.url,
      pool: { min: 0, max: Math.max(2, config.poolMax ?? 10) /* a migration run needs two */ },
      driverOptions: { connectionTimeoutMillis: config.acquireTimeoutMs ?? DEFAULT_ACQUIRE_TIMEOUT_MS },
      // MikroORM creates a missing database on connect by default: a misspelt name in
      // DATABASE_URL would silently become a new, empty, freshly migrated database.
      ensureDatabase: false,
    });
    const max = Math.max(2, config.poolMax ?? 10);
    // pg's Pool, for its counters (MikroORM creates it on connect; this does not open a connection).
    const pool = await (orm.em.getConnection() as unknown as { getNativeClient(): Promise<PgPool> }).getNativeClient();
    poolStats = () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, max });
    const named = config.preparedStatements ?? true;
    query = async (statement, params) =>
      (await pool.query({ ...(named && { name: statement.name }), text: statement.text, values: [...params] })).rows;
  } else {
    const { MikroORM: LiteOrm } = await import('@mikro-orm/pglite');
    const { PGlite } = await import('@electric-sql/pglite');
    orm = await LiteOrm.init({
      ...common,
      ...(config.dataDir !== undefined && { dbName: config.dataDir }),
      driverOptions: {
        // PostgreSQL's server defaults (128 MB of shared buffers) are sized for a server of its
        // own; here they live in this process's WebAssembly heap. A one-process database serving
        // one label needs far less, and the heap still grows when a query needs it.
        startParams: [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB', '-c', 'wal_buffers=1MB', '-c', 'maintenance_work_mem=16MB'],
      },
    });
    const lite = orm;
    // One connection, statements one at a time: PGlite has no pool to bypass, only the ORM's layers.
    query = async (statement, params) => {
      const pglite = await (lite.em.getConnection() as unknown as { getNativeClient(): Promise<PgliteQuery> }).getNativeClient();
      return (await pglite.query(statement.text, [...params])).rows;
    };
  }
  logger.debug({ driver: config.driver }, 'database opened');

  const em = () => orm.em.fork() as unknown as SqlEntityManager;
  return {
    driver: config.driver,
    orm,
    em,
    transactional: (work) => em().transactional((tem) => work(tem as SqlEntityManager)),
    ping: async () => {
      await orm.em.getConnection().execute('select 1');
    },
    poolStats,
    query: query as Database['query'],
    close: () => orm.close(true),
  };
}
