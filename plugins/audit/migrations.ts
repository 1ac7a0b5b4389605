/**
 * The audit log's table. Append-only in the database itself: row triggers refuse UPDATE and
 * DELETE and a statement trigger refuses TRUNCATE, for every role including the table's owner
 * (only disabling the triggers, which the test suite does to tamper on purpose, gets past them).
 * `seq` orders the hash chain; each entry's `hash` covers its content and `prev_hash`.
 */
import { Migration, type MigrationEntry } from '../../core/index.ts';

class CreateEntries extends Migration {
  override up(): void {
    this.addSql(`create table audit_entries (
      seq bigint primary key,
      id uuid not null unique,
      at timestamptz not null,
      actor text not null check (actor in ('user', 'cli')),
      actor_id uuid null,
      action varchar(100) not null,
      target_type varchar(50) not null,
      target_id varchar(100) null,
      reason text null,
      request_id varchar(128) null,
      ip varchar(64) null,
      details jsonb not null,
      prev_hash char(64) not null,
      hash char(64) not null
    )`);
    this.addSql('create index audit_entries_actor_id_seq_index on audit_entries (actor_id, seq)');
    this.addSql('create index audit_entries_action_seq_index on audit_entries (action, seq)');
    this.addSql('create index audit_entries_target_id_seq_index on audit_entries (target_id, seq)');
    this.addSql(`create function audit_entries_append_only() returns trigger language plpgsql as $$
      begin
        raise exception 'audit_entries is append-only: % refused', tg_op using errcode = 'insufficient_privilege';
      end $$`);
    this.addSql(`create trigger audit_entries_no_update_delete before update or delete on audit_entries
      for each row execute function audit_entries_append_only()`);
    this.addSql(`create trigger audit_entries_no_truncate before truncate on audit_entries
      for each statement execute function audit_entries_append_only()`);
  }

  override down(): void {
    // Reverting the plugin's schema drops the log with its table (triggers do not stop DROP).
    this.addSql('drop table audit_entries');
    this.addSql('drop function audit_entries_append_only()');
  }
}

export const auditMigrations: readonly MigrationEntry[] = [{ name: 'audit/0001_create_entries', class: CreateEntries }];
