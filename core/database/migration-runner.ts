/**
 * Applies and reverts migrations. Runs are serialised across instances by a PostgreSQL advisory
 * lock taken inside the migration transaction: a second instance booting at the same time waits,
 * then finds nothing pending. A whole `up` batch is one transaction, so a failing migration leaves
 * neither its changes nor a ledger row behind.
 */
import type { Transaction } from '@mikro-orm/core';
import type { Migrator } from '@mikro-orm/migrations';
import type { Logger } from '../logging/logger.ts';
import type { Database } from './database.ts';
import type { MigrationEntry } from './migration-entry.ts';

/** Arbitrary constant: the key of the advisory lock that guards migration runs. */
const MIGRATION_LOCK_KEY = 0x656d70756c7365n % 2n ** 63n; // "empulse"

export interface MigrationStatus {
  readonly name: string;
  /** The plugin (or `kernel`) the migration belongs to. */
  readonly owner: string;
  readonly applied: boolean;
  readonly appliedAt: Date | undefined;
  /** Applied earlier by a plugin that is not enabled now (its data is kept). */
  readonly orphaned: boolean;
}

/** Per-database queue: PGlite has a single backend, where advisory locks do not exclude callers. */
const queues = new WeakMap<Database, Promise<unknown>>();

export class MigrationRunner {
  readonly #db: Database;
  readonly #entries: readonly MigrationEntry[];
  readonly #logger: Logger;

  constructor(db: Database, entries: readonly MigrationEntry[], logger: Logger) {
    this.#db = db;
    this.#entries = entries;
    this.#logger = logger;
  }

  get #migrator(): Migrator {
    return this.#db.orm.migrator as Migrator;
  }

  async status(): Promise<MigrationStatus[]> {
    const executed = await this.#locked(() => this.#migrator.getExecuted());
    const appliedAt = new Map(executed.map((row) => [row.name, row.executed_at]));
    const known = new Set(this.#entries.map((m) => m.name));
    const listed = this.#entries.map((m) => ({
      name: m.name,
      owner: ownerOf(m.name),
      applied: appliedAt.has(m.name),
      appliedAt: appliedAt.get(m.name),
      orphaned: false,
    }));
    const orphans = executed
      .filter((row) => !known.has(row.name))
      .map((row) => ({ name: row.name, owner: ownerOf(row.name), applied: true, appliedAt: row.executed_at, orphaned: true }));
    return [...listed, ...orphans];
  }

  async pending(): Promise<string[]> {
    return this.#locked(async () => (await this.#migrator.getPending()).map((m) => m.name));
  }

  /** Applies every pending migration in order; returns the names applied by this call. */
  async up(): Promise<string[]> {
    return this.#locked(async (trx) => {
      let current: string | undefined;
      const track = (m: { name: string }) => {
        current = m.name;
      };
      this.#migrator.on('migrating', track);
      try {
        const done = await this.#migrator.up(trx ? { transaction: trx } : {});
        return done.map((m) => m.name);
      } catch (err) {
        throw new MigrationError(current, err);
      } finally {
        this.#migrator.off('migrating', track);
      }
    });
  }

  /**
   * What `down(steps)` would revert, last applied first: migrations of enabled plugins only. The
   * kernel's own (its ledger, its keys) are never reverted: without them nothing else works.
   */
  async downTargets(steps = 1): Promise<string[]> {
    return this.#locked(() => this.#targets(steps));
  }

  async #targets(steps: number): Promise<string[]> {
    const known = new Set(this.#entries.filter((m) => ownerOf(m.name) !== 'kernel').map((m) => m.name));
    const executed = (await this.#migrator.getExecuted()).map((row) => row.name).filter((name) => known.has(name));
    return executed.slice(-steps).reverse();
  }

  /** Reverts the last `steps` applied migrations of enabled plugins (default 1); never the kernel's. */
  async down(steps = 1): Promise<string[]> {
    return this.#locked(async (trx) => {
      const targets = await this.#targets(steps);
      if (targets.length === 0) return [];
      const done = await this.#migrator.down(trx ? { migrations: targets, transaction: trx } : { migrations: targets });
      return done.map((m) => m.name);
    });
  }

  /**
   * Runs `work` holding the migration lock. Everything that may create the ledger table runs
   * under it, so two instances never race to create it. PGlite is one in-process backend (one
   * process owns its data dir), so the in-process queue alone serialises it.
   */
  #locked<T>(work: (trx: Transaction | undefined) => Promise<T>): Promise<T> {
    const conn = this.#db.orm.em.getConnection();
    const run = () =>
      this.#db.driver === 'pglite' ? work(undefined) : conn.transactional(async (trx) => {
        await conn.execute('select pg_advisory_xact_lock(?)', [MIGRATION_LOCK_KEY.toString()], 'all', trx);
        this.#logger.debug('migration lock acquired');
        return work(trx);
      });
    const queued = queues.get(this.#db) ?? Promise.resolve();
    const result = queued.then(run, run);
    queues.set(this.#db, result.catch(() => undefined));
    return result;
  }
}

/** A failed migration run, naming the migration (and so the plugin) that failed. */
export class MigrationError extends Error {
  override readonly name = 'MigrationError';
  readonly migration: string | undefined;
  readonly owner: string | undefined;

  constructor(migration: string | undefined, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(migration ? `migration ${migration} failed: ${reason}` : `migrations failed: ${reason}`, { cause });
    this.migration = migration;
    this.owner = migration ? ownerOf(migration) : undefined;
  }
}

function ownerOf(name: string): string {
  const slash = name.indexOf('/');
  return slash > 0 ? name.slice(0, slash) : 'kernel';
}
