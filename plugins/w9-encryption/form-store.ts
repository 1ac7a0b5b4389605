/**
 * The `w9_encryption_forms` table in plain SQL. It sees only sealed values and blind indexes:
 * sealing and opening happen in form-seal.ts, so no plaintext TIN, address or signature is ever
 * a query parameter.
 */
import type { SqlEntityManager } from '@mikro-orm/sql';
import type { TaxClassification, TinType } from './contract.ts';

export const FORMS_TABLE = 'w9_encryption_forms';

/** The columns that hold sealed values, as named in the table (and in each value's binding). */
export const SEALED_COLUMNS = ['tin_sealed', 'address_sealed', 'signature_sealed'] as const;
export type SealedColumn = (typeof SEALED_COLUMNS)[number];

/** A stored form: clear fields, and the sealed ones as the table holds them. */
export interface FormRow {
  readonly id: string;
  readonly user_id: string;
  readonly legal_name: string;
  readonly business_name: string | null;
  readonly tax_classification: TaxClassification;
  readonly tin_type: TinType;
  readonly tin_sealed: string;
  readonly tin_index: string;
  readonly address_sealed: string;
  readonly signature_sealed: string;
  readonly key_id: string;
  readonly signed_at: string | Date;
  readonly created_at: string | Date;
}

export interface NewFormRow {
  readonly id: string;
  readonly userId: string;
  readonly legalName: string;
  readonly businessName: string | null;
  readonly taxClassification: TaxClassification;
  readonly tinType: TinType;
  readonly tinIndex: string;
  readonly sealed: Readonly<Record<SealedColumn, string>>;
  readonly keyId: string;
  readonly signedAt: string;
}

/** One row's values re-sealed under another key (rotation). */
export interface ResealedRow {
  readonly id: string;
  readonly keyId: string;
  readonly sealed: Readonly<Record<SealedColumn, string>>;
}

export interface SearchRow {
  readonly user_id: string;
  readonly legal_name: string;
  readonly tin_type: TinType;
  readonly created_at: string;
}

// Timestamps as ISO text (every driver alike): the signing time is part of what the sealed values
// are bound to, so it must read back exactly as it was written.
const COLUMNS = `id, user_id, legal_name, business_name, tax_classification, tin_type, tin_sealed, tin_index, address_sealed, signature_sealed,
  key_id, to_json(signed_at) #>> '{}' as signed_at, to_json(created_at) #>> '{}' as created_at`;

type Mode = 'get' | 'all' | 'run';

function run<T>(em: SqlEntityManager, sql: string, params: readonly unknown[], mode: Mode): Promise<T> {
  return em.getConnection().execute(sql, [...params], mode, em.getTransactionContext()) as Promise<T>;
}

export class FormStore {
  /**
   * Makes `form` its user's current W-9 and keeps the previous one (superseded). Must run in a
   * transaction: a per-user advisory lock orders two replacements at once (both would otherwise
   * find no current form to supersede on a first submission and collide on the unique index).
   */
  async replace(em: SqlEntityManager, form: NewFormRow): Promise<FormRow> {
    await run(em, `select pg_advisory_xact_lock(hashtextextended(?, 0))`, [`${FORMS_TABLE}:${form.userId}`], 'get');
    // The clock once the lock is held, not the transaction's start: a PUT that waited for another
    // is later than the form it replaces.
    await run(em, `update ${FORMS_TABLE} set superseded_at = clock_timestamp() where user_id = ? and superseded_at is null`, [form.userId], 'run');
    return run<FormRow>(
      em,
      `insert into ${FORMS_TABLE} (id, user_id, legal_name, business_name, tax_classification, tin_type, tin_sealed, tin_index,
         address_sealed, signature_sealed, key_id, signed_at, created_at)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::timestamptz, clock_timestamp())
       returning ${COLUMNS}`,
      [
        form.id, form.userId, form.legalName, form.businessName, form.taxClassification, form.tinType, form.sealed.tin_sealed, form.tinIndex,
        form.sealed.address_sealed, form.sealed.signature_sealed, form.keyId, form.signedAt,
      ],
      'get',
    );
  }

  async current(em: SqlEntityManager, userId: string): Promise<FormRow | undefined> {
    return run<FormRow | undefined>(em, `select ${COLUMNS} from ${FORMS_TABLE} where user_id = ? and superseded_at is null`, [userId], 'get');
  }

  /** Every current form whose TIN has this blind index, oldest first. */
  async search(em: SqlEntityManager, tinIndex: string): Promise<SearchRow[]> {
    return run<SearchRow[]>(
      em,
      `select user_id, legal_name, tin_type, to_json(created_at) #>> '{}' as created_at from ${FORMS_TABLE}
        where tin_index = ? and superseded_at is null order by created_at, id`,
      [tinIndex],
      'all',
    );
  }

  /** The key ids in use, each once (a skip scan of the key_id index: a few probes whatever the row count). */
  async keyIds(em: SqlEntityManager): Promise<string[]> {
    // Before the plugin's migration ran (`empulse check` on a new database) there are no forms.
    const table = await run<{ t: string | null }>(em, 'select to_regclass(?)::text as t', [FORMS_TABLE], 'get');
    if (table.t === null) return [];
    const rows = await run<{ key_id: string }[]>(
      em,
      `with recursive used(key_id) as (
         (select key_id from ${FORMS_TABLE} order by key_id limit 1)
         union all
         select (select f.key_id from ${FORMS_TABLE} f where f.key_id > used.key_id order by f.key_id limit 1) from used where used.key_id is not null
       )
       select key_id from used where key_id is not null`,
      [],
      'all',
    );
    return rows.map((r) => r.key_id);
  }

  /** How many forms (current and past) are sealed under each of `keyIds`. */
  async countByKey(em: SqlEntityManager, keyIds: readonly string[]): Promise<Map<string, number>> {
    if (keyIds.length === 0) return new Map();
    const rows = await run<{ key_id: string; n: string | number }[]>(
      em,
      `select key_id, count(*) as n from ${FORMS_TABLE} where key_id in (${keyIds.map(() => '?').join(', ')}) group by key_id`,
      keyIds,
      'all',
    );
    return new Map(rows.map((r) => [r.key_id, Number(r.n)]));
  }

  /**
   * The next forms (current and past, by id) not sealed under `activeKeyId`, locked until the
   * caller's transaction ends: a replacement of one of them waits for the batch, then supersedes
   * the re-sealed row, so nothing written meanwhile is lost.
   */
  async lockNotUnder(em: SqlEntityManager, activeKeyId: string, afterId: string | undefined, limit: number): Promise<FormRow[]> {
    return run<FormRow[]>(
      em,
      `select ${COLUMNS} from ${FORMS_TABLE}
        where key_id <> ? ${afterId === undefined ? '' : 'and id > ?'}
        order by id limit ? for update`,
      afterId === undefined ? [activeKeyId, limit] : [activeKeyId, afterId, limit],
      'all',
    );
  }

  /** Writes re-sealed values, one statement for the batch. */
  async reseal(em: SqlEntityManager, rows: readonly ResealedRow[]): Promise<void> {
    if (rows.length === 0) return;
    const values = rows.map((r) => ({ id: r.id, key_id: r.keyId, tin: r.sealed.tin_sealed, address: r.sealed.address_sealed, signature: r.sealed.signature_sealed }));
    await run(
      em,
      `update ${FORMS_TABLE} f set tin_sealed = v.tin, address_sealed = v.address, signature_sealed = v.signature, key_id = v.key_id
         from jsonb_to_recordset(?::jsonb) as v(id uuid, key_id text, tin text, address text, signature text)
        where f.id = v.id`,
      [JSON.stringify(values)],
      'run',
    );
  }
}
