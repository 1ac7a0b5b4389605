/** The shoutbox's migrations, in order. Names are explicit: `<plugin id>/<nnnn>_<what>`. */
import { Migration, type MigrationEntry } from '../../core/index.ts';

class CreateMessages extends Migration {
  override up(): void {
    this.addSql(`create table shoutbox_messages (
      id uuid primary key,
      author varchar(80) not null,
      text text not null,
      masked boolean not null,
      created_at timestamptz not null
    )`);
  }

  override down(): void {
    this.addSql('drop table shoutbox_messages');
  }
}

export const shoutboxMigrations: readonly MigrationEntry[] = [{ name: 'shoutbox/0001_create_messages', class: CreateMessages }];
