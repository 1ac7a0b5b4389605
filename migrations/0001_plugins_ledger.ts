import { Migration } from '@mikro-orm/migrations';

/**
 * The kernel's ledger of installed plugins: which plugins this database has seen, at which
 * version, and when each last booted. Disabling a plugin leaves its row (and its tables) alone.
 */
export class KernelPluginsLedger extends Migration {
  override up(): void {
    this.addSql(`create table if not exists empulse_plugins (
      id text primary key,
      version text not null,
      installed_at timestamptz not null default now(),
      last_booted_at timestamptz not null default now()
    )`);
  }

  override down(): void {
    this.addSql('drop table if exists empulse_plugins');
  }
}
