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

/**
 * For the back office: the last login, the newest-first account list, and substring search on
 * email and display name. Trigram indexes need pg_trgm; where it cannot be created (the embedded
 * database, a role without the privilege) the search still works, by scanning.
 */
class BackOfficeIndexes extends Migration {
  override up(): void {
    this.addSql('alter table auth_users add column last_login_at timestamptz null');
    this.addSql('create index auth_users_created_at_id_index on auth_users (created_at, id)');
    this.addSql('create index auth_users_role_created_at_id_index on auth_users (role, created_at, id)');
    this.addSql(`do $$
      begin
        begin
          create extension if not exists pg_trgm;
        exception when others then
          raise notice 'pg_trgm is not available: account search scans';
        end;
        if exists (select 1 from pg_extension where extname = 'pg_trgm') then
          execute 'create index auth_users_email_trgm_index on auth_users using gin (email_normalized gin_trgm_ops)';
          execute 'create index auth_users_display_name_trgm_index on auth_users using gin (lower(display_name) gin_trgm_ops)';
        end if;
      end $$`);
  }

  override down(): void {
    this.addSql('drop index if exists auth_users_display_name_trgm_index');
    this.addSql('drop index if exists auth_users_email_trgm_index');
    this.addSql('drop index auth_users_role_created_at_id_index');
    this.addSql('drop index auth_users_created_at_id_index');
    this.addSql('alter table auth_users drop column last_login_at');
  }
}

export const authMigrations: readonly MigrationEntry[] = [
  { name: 'auth/0001_create_tables', class: CreateAuthTables },
  { name: 'auth/0002_back_office', class: BackOfficeIndexes },
];
