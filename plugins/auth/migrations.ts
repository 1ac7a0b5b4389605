/** The auth plugin's migrations, in order. */
import { Migration, type MigrationEntry } from '../../core/index.ts';

class CreateAuthTables extends Migration {
  override up(): void {
    this.addSql(`create table auth_users (
      id uuid primary key,
      email varchar(320) not null,
      email_normalized varchar(320) not null unique,
      display_name varchar(100) not null,
      role text not null check (role in ('artist', 'admin')),
      password_hash text not null,
      email_verified_at timestamptz null,
      password_changed_at timestamptz not null,
      created_at timestamptz not null
    )`);
    this.addSql(`create table auth_sessions (
      id uuid primary key,
      user_id uuid not null references auth_users (id) on delete cascade,
      created_at timestamptz not null,
      last_used_at timestamptz not null,
      idle_expires_at timestamptz not null,
      absolute_expires_at timestamptz not null,
      revoked_at timestamptz null,
      revoked_reason varchar(40) null,
      user_agent varchar(400) null,
      ip varchar(64) null,
      csrf_hash varchar(64) null
    )`);
    this.addSql('create index auth_sessions_user_id_index on auth_sessions (user_id)');
    this.addSql(`create table auth_refresh_tokens (
      token_hash varchar(64) primary key,
      session_id uuid not null references auth_sessions (id) on delete cascade,
      created_at timestamptz not null,
      spent_at timestamptz null
    )`);
    this.addSql('create index auth_refresh_tokens_session_id_index on auth_refresh_tokens (session_id)');
    this.addSql(`create table auth_one_time_tokens (
      token_hash varchar(64) primary key,
      user_id uuid not null references auth_users (id) on delete cascade,
      purpose text not null check (purpose in ('verify_email', 'reset_password')),
      created_at timestamptz not null,
      expires_at timestamptz not null,
      used_at timestamptz null
    )`);
    this.addSql('create index auth_one_time_tokens_user_id_index on auth_one_time_tokens (user_id)');
  }

  override down(): void {
    this.addSql('drop table auth_one_time_tokens');
    this.addSql('drop table auth_refresh_tokens');
    this.addSql('drop table auth_sessions');
    this.addSql('drop table auth_users');
  }
}

export const authMigrations: readonly MigrationEntry[] = [{ name: 'auth/0001_create_tables', class: CreateAuthTables }];
