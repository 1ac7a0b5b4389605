/**
 * Opens MikroORM on the configured driver with every enabled plugin's entities and migrations,
 * and wires transaction events to the hook bus (hooks wait for their transaction's commit).
 */
import type { EntitySchema, MikroORM, Options, TransactionEventArgs } from '@mikro-orm/core';
import { Migrator } from '@mikro-orm/migrations';
import type { SqlEntityManager } from '@mikro-orm/sql';
import type { Logger } from '../logging/logger.ts';
import type { Database, DatabaseConfig } from './database.ts';
import type { MigrationEntry } from './migration-entry.ts';

export const MIGRATIONS_TABLE = 'empulse_migrations';

export interface OpenDatabaseOptions {
  readonly config: DatabaseConfig;
  readonly entities: readonly EntitySchema[];
  readonly migrations: readonly MigrationEntry[];
  readonly logger: Logger;
  readonly onCommit: (tx: object) => void;
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
    subscribers: [
      {
        afterTransactionCommit: (args: TransactionEventArgs) => {
          if (args.transaction) options.onCommit(args.transaction as object);
        },
        afterTransactionRollback: (args: TransactionEventArgs) => {
          if (args.transaction) options.onRollback(args.transaction as object);
        },
      },
    ],
    // Entities are discovered from the list we pass; no folder scanning (bundles, Deno).
    discovery: { warnWhenNoEntities: false },
    debug: false,
    allowGlobalContext: false,
  } satisfies Partial<Options>;

  let orm: MikroORM;
  if (config.driver === 'postgresql') {
    const { MikroORM: PgOrm } = await import('@mikro-orm/postgresql');
    orm = await PgOrm.init({ ...common, clientUrl: config.url, pool: { min: 0, max: config.poolMax ?? 10 } });
  } else {
    const { MikroORM: LiteOrm } = await import('@mikro-orm/pglite');
    orm = await LiteOrm.init({ ...common, ...(config.dataDir !== undefined && { dbName: config.dataDir }) });
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
    close: () => orm.close(true),
  };
}
