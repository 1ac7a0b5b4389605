/** The email plugin's migrations, in order. */
import { Migration, type MigrationEntry } from '../../core/index.ts';

class CreateOutbox extends Migration {
  override up(): void {
    this.addSql(`create table email_outbox (
      id uuid primary key,
      recipient varchar(320) not null,
      template varchar(64) not null,
      payload bytea,
      status varchar(16) not null default 'pending' check (status in ('pending', 'sent', 'failed')),
      attempts integer not null default 0,
      next_attempt_at timestamptz not null default now(),
      last_error text,
      request_id varchar(128),
      created_at timestamptz not null default now(),
      sent_at timestamptz
    )`);
    // The worker's only hot query: due pending rows. Sent and failed rows stay out of the index.
    this.addSql(`create index email_outbox_due on email_outbox (next_attempt_at) where status = 'pending'`);
  }

  override down(): void {
    this.addSql('drop table email_outbox');
  }
}

export const emailMigrations: readonly MigrationEntry[] = [{ name: 'email/0001_create_outbox', class: CreateOutbox }];
