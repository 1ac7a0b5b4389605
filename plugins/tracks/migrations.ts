/** The tracks plugin's migrations, in order. */
import { Migration, type MigrationEntry } from '../../core/index.ts';

class CreateTracks extends Migration {
  override up(): void {
    // artist_id and reviewed_by are auth's user ids (its contract), with no foreign key into
    // auth's table: plugins share services, not each other's schemas.
    this.addSql(`create table tracks_submissions (
      id uuid primary key,
      artist_id uuid not null,
      title varchar(200) not null,
      artists jsonb not null check (jsonb_typeof(artists) = 'array' and jsonb_array_length(artists) between 1 and 20),
      isrc char(12) null check (isrc ~ '^[A-Z]{2}[A-Z0-9]{3}[0-9]{7}$'),
      genre varchar(50) not null,
      explicit boolean not null,
      release_date date null,
      status varchar(16) not null check (status in ('submitted', 'approved', 'rejected')),
      format varchar(8) not null check (format in ('wav', 'aiff', 'flac', 'mp3')),
      content_type varchar(32) not null,
      size_bytes bigint not null check (size_bytes >= 0),
      sha256 char(64) not null check (sha256 ~ '^[0-9a-f]{64}$'),
      duration_seconds double precision null check (duration_seconds >= 0),
      storage_key varchar(512) not null unique,
      review_reason varchar(500) null,
      reviewed_at timestamptz null,
      reviewed_by uuid null,
      created_at timestamptz not null,
      updated_at timestamptz not null
    )`);
    // An artist's own list, newest first (the keyset walk of GET /v1/tracks).
    this.addSql('create index tracks_submissions_artist_created on tracks_submissions (artist_id, created_at desc, id desc)');
    // An admin's list, all tracks or one status (the review queue: ?status=submitted).
    this.addSql('create index tracks_submissions_created on tracks_submissions (created_at desc, id desc)');
    this.addSql('create index tracks_submissions_status_created on tracks_submissions (status, created_at desc, id desc)');
  }

  override down(): void {
    this.addSql('drop table tracks_submissions');
  }
}

export const tracksMigrations: readonly MigrationEntry[] = [{ name: 'tracks/0001_create_tracks', class: CreateTracks }];
