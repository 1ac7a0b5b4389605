/**
 * Writes the kernel's ledger of installed plugins (the `empulse_plugins` table its first migration
 * creates): each enabled plugin's version and when it last booted. Rows of disabled plugins stay,
 * as their tables do.
 */
import type { OpenedDatabase } from '../core/database/open-database.ts';

export async function recordPlugins(db: OpenedDatabase, plugins: readonly { readonly id: string; readonly version: string }[]): Promise<void> {
  const conn = db.orm.em.getConnection();
  for (const plugin of plugins) {
    await conn.execute(
      `insert into empulse_plugins (id, version, installed_at, last_booted_at) values (?, ?, now(), now())
       on conflict (id) do update set version = excluded.version, last_booted_at = now()`,
      [plugin.id, plugin.version],
    );
  }
}
