/** The artists plugin's migrations, in order. */
import { Migration, type MigrationEntry } from '../../core/index.ts';

class CreateProfiles extends Migration {
  override up(): void {
    // One profile per user: the account is the artist. The ids are auth's user ids (its contract),
    // with no foreign key into auth's table: plugins share services, not each other's schemas.
    this.addSql(`create table artists_profiles (
      user_id uuid primary key,
      stage_name varchar(100) not null,
      bio varchar(2000) null,
      links jsonb not null default '[]'::jsonb check (jsonb_typeof(links) = 'array' and jsonb_array_length(links) <= 10),
      status varchar(16) not null check (status in ('pending', 'approved', 'rejected')),
      review_reason varchar(500) null,
      submitted_at timestamptz not null,
      reviewed_at timestamptz null,
      reviewed_by uuid null,
      updated_at timestamptz not null
    )`);
    // The admin queue: one status, oldest application first, user id as the keyset tie-breaker.
    this.addSql('create index artists_profiles_queue on artists_profiles (status, submitted_at, user_id)');
    // The same walk over every status (the queue without a status filter).
    this.addSql('create index artists_profiles_submitted on artists_profiles (submitted_at, user_id)');
  }

  override down(): void {
    this.addSql('drop table artists_profiles');
  }
}

export const artistsMigrations: readonly MigrationEntry[] = [{ name: 'artists/0001_create_profiles', class: CreateProfiles }];
