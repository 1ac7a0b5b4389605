/** The w9-encryption plugin's migrations, in order. */
import { Migration, type MigrationEntry } from '../../core/index.ts';

class CreateForms extends Migration {
  override up(): void {
    // Every form a user ever submitted: the current one has no superseded_at, the earlier ones
    // are kept (encrypted, like the current one) for the record. The TIN, the address and the
    // signature exist here only as sealed values (field-cipher.ts) bound to this table, their
    // column and the row's id; key_id names the ring key all three are sealed under, and a check
    // keeps it honest, so rotation and the missing-key check read one indexed column.
    this.addSql(`create table w9_encryption_forms (
      id uuid primary key,
      user_id uuid not null,
      legal_name varchar(200) not null,
      business_name varchar(200) null,
      tax_classification varchar(16) not null
        check (tax_classification in ('individual', 'c_corporation', 's_corporation', 'partnership', 'trust_estate', 'llc', 'other')),
      tin_type varchar(3) not null check (tin_type in ('ssn', 'ein')),
      tin_sealed text not null,
      tin_index char(43) not null,
      address_sealed text not null,
      signature_sealed text not null,
      key_id varchar(32) not null,
      signed_at timestamptz not null,
      created_at timestamptz not null,
      superseded_at timestamptz null,
      constraint w9_encryption_forms_sealed_under_key_id check (
        starts_with(tin_sealed, 'v1.' || key_id || '.')
        and starts_with(address_sealed, 'v1.' || key_id || '.')
        and starts_with(signature_sealed, 'v1.' || key_id || '.')
      )
    )`);
    // One current form per user (a replacement supersedes it in the same transaction).
    this.addSql('create unique index w9_encryption_forms_current on w9_encryption_forms (user_id) where superseded_at is null');
    // Search by TIN looks at current forms only, through the blind index.
    this.addSql('create index w9_encryption_forms_tin_index on w9_encryption_forms (tin_index) where superseded_at is null');
    // Which keys are in use (a skip scan over a handful of ids) and a user's history.
    this.addSql('create index w9_encryption_forms_key_id on w9_encryption_forms (key_id)');
    this.addSql('create index w9_encryption_forms_history on w9_encryption_forms (user_id, created_at)');
  }

  override down(): void {
    this.addSql('drop table w9_encryption_forms');
  }
}

export const w9Migrations: readonly MigrationEntry[] = [{ name: 'w9-encryption/0001_create_forms', class: CreateForms }];
