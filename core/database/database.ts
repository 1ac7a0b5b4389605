/**
 * The database as plugins see it: MikroORM with every enabled plugin's entities, on PostgreSQL
 * (`DATABASE_URL`) or on the embedded PGlite database.
 */
import type { MikroORM } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/sql';

export type DatabaseConfig =
  | { readonly driver: 'postgresql'; readonly url: string; readonly poolMax?: number }
  /** `dataDir` undefined: an in-memory database (tests). */
  | { readonly driver: 'pglite'; readonly dataDir?: string };

export interface Database {
  readonly driver: DatabaseConfig['driver'];
  readonly orm: MikroORM;
  /** A fresh EntityManager fork (its own identity map). */
  em(): SqlEntityManager;
  /** Runs `work` in a transaction; hooks emitted with its `em` are delivered after commit. */
  transactional<T>(work: (em: SqlEntityManager) => Promise<T>): Promise<T>;
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
}
