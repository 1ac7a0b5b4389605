import { Migration } from '@mikro-orm/migrations';

/**
 * Keys the kernel makes for itself (e.g. the one that signs list cursors): random bytes created
 * on first use and shared by every instance of the deployment through the database, so they
 * survive restarts and need no operator configuration. See core/database/kernel-keys.ts.
 */
export class KernelKeys extends Migration {
  override up(): void {
    this.addSql(`create table if not exists empulse_keys (
      name text primary key,
      key bytea not null check (octet_length(key) >= 32),
      created_at timestamptz not null default now()
    )`);
  }

  override down(): void {
    this.addSql('drop table if exists empulse_keys');
  }
}
