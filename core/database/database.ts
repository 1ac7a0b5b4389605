/**
 * The database as plugins see it: MikroORM with every enabled plugin's entities, on PostgreSQL
 * (`DATABASE_URL`) or on the embedded PGlite database.
 */
import type { MikroORM } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/sql';

export type DatabaseConfig =
  | {
      readonly driver: 'postgresql';
      readonly url: string;
      readonly poolMax?: number;
      /**
       * false: `Database.query` sends its statements unnamed (parsed on every call). For a
       * connection pooler in transaction mode that does not keep prepared statements per client
       * (PgBouncer before 1.21, or with max_prepared_statements = 0). Default true.
       */
      readonly preparedStatements?: boolean;
      /**
       * Longest wait for a connection (a free one from a full pool, or a new one to the server)
       * before the query fails, answered 503 service_unavailable: an exhausted pool or an
       * unreachable server must not hold requests past their time budget. Default 5000 ms.
       */
      readonly acquireTimeoutMs?: number;
    }
  /** `dataDir` undefined: an in-memory database (tests). */
  | { readonly driver: 'pglite'; readonly dataDir?: string };

/** The connection pool's state at one moment (PostgreSQL; the embedded database has no pool). */
export interface PoolStats {
  /** Connections open (busy or idle). */
  readonly total: number;
  readonly idle: number;
  /** Queries waiting for a connection: above zero, the pool is the bottleneck. */
  readonly waiting: number;
  /** The most connections the pool opens (`DATABASE_POOL_MAX`). */
  readonly max: number;
}

/**
 * A statement for `Database.query`: PostgreSQL's own `$1, $2…` placeholders, and a name unique
 * in the process (on PostgreSQL it becomes a prepared statement, parsed and planned once per
 * connection instead of on every call).
 */
export interface NamedStatement {
  readonly name: string;
  readonly text: string;
}

export interface Database {
  readonly driver: DatabaseConfig['driver'];
  readonly orm: MikroORM;
  /** A fresh EntityManager fork (its own identity map). */
  em(): SqlEntityManager;
  /** Runs `work` in a transaction; hooks emitted with its `em` are delivered after commit. */
  transactional<T>(work: (em: SqlEntityManager) => Promise<T>): Promise<T>;
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
  /**
   * Runs one statement outside any transaction and the ORM, straight on the driver: for the few
   * queries on every request's path (a session check), where MikroORM's layers cost more than
   * the query. Rows come back as the driver returns them (timestamps as Date or string).
   */
  query<Row extends object>(statement: NamedStatement, params: readonly unknown[]): Promise<Row[]>;
  /** The pool's state, or undefined on the embedded database or before the pool exists. */
  poolStats(): PoolStats | undefined;
}
