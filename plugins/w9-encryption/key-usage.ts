/**
 * Which ring keys the stored forms need. A form sealed under a key the ring no longer has cannot
 * be opened: readiness reports `w9-keys` degraded (the rest of the API keeps serving; `empulse
 * check` exits 1), the log names the keys, and `rotate-keys` refuses to start, instead of anyone
 * finding out one reveal at a time.
 */
import type { SqlEntityManager } from '@mikro-orm/sql';
import type { FieldCipher } from './field-cipher.ts';
import type { FormStore } from './form-store.ts';

/** The key ids forms are sealed under that the ring lacks, with how many forms each holds. */
export async function missingKeys(em: SqlEntityManager, store: FormStore, cipher: FieldCipher): Promise<Map<string, number>> {
  const missing = (await store.keyIds(em)).filter((id) => !cipher.hasKey(id));
  return store.countByKey(em, missing);
}

export function describeMissing(missing: ReadonlyMap<string, number>): string {
  const list = [...missing].map(([id, n]) => `${n} under "${id}"`).join(', ');
  return `W-9 forms are sealed under keys W9_ENCRYPTION_KEYS lacks (${list}): put those keys back in the ring, after the active one, then run "npx empulse w9 rotate-keys" before removing them`;
}

/** What the public readiness body says: counts only (key ids and the fix go to the log and the CLI). */
export function summariseMissing(missing: ReadonlyMap<string, number>): string {
  const forms = [...missing.values()].reduce((a, b) => a + b, 0);
  return `${forms} W-9 form(s) are sealed under ${missing.size} key(s) that W9_ENCRYPTION_KEYS lacks: they cannot be revealed (the log names the keys)`;
}
