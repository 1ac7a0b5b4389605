/** The lockout plugin's migrations. */
import { Migration, type MigrationEntry } from '../../core/index.ts';

class CreateCounters extends Migration {
  override up(): void {
    this.addSql(`create table lockout_counters (
      identifier text primary key,
      failures integer not null default 0,
      pending integer not null default 0,
      window_started_at timestamptz not null,
      locked_until timestamptz null,
      lockouts_in_a_row integer not null default 0,
      updated_at timestamptz not null
    )`);
  }

  override down(): void {
    this.addSql('drop table lockout_counters');
  }
}

/** An administrator's lock: set at `admin_locked_at`, until `admin_locked_until` (null: until unlocked). */
class AdminLocks extends Migration {
  override up(): void {
    this.addSql('alter table lockout_counters add column admin_locked_at timestamptz null, add column admin_locked_until timestamptz null');
  }

  override down(): void {
    this.addSql('alter table lockout_counters drop column admin_locked_until, drop column admin_locked_at');
  }
}

export const lockoutMigrations: readonly MigrationEntry[] = [
  { name: 'lockout/0001_create_counters', class: CreateCounters },
  { name: 'lockout/0002_admin_locks', class: AdminLocks },
];
