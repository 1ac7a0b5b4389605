/**
 * `npx empulse w9 rotate-keys`: re-seals, under the ring's active key, every form (current and
 * past) sealed under another, in small transactions while the service runs. Each batch locks its
 * rows (`for update`), so a replacement PUT of one of them waits for the batch and then
 * supersedes the re-sealed row; forms written meanwhile are sealed under the active key already
 * (when every instance runs the new ring) and, having later ids, are visited anyway if not.
 * Walking by id makes each run finite; a second run finds nothing to do.
 */
import type { CommandIo, Database } from '../../core/index.ts';
import type { FieldCipher } from './field-cipher.ts';
import { resealRow } from './form-seal.ts';
import type { FormStore } from './form-store.ts';
import { describeMissing, missingKeys } from './key-usage.ts';
import { SealedValueError } from './field-cipher.ts';

export interface RotationDeps {
  readonly db: Database;
  readonly store: FormStore;
  readonly cipher: FieldCipher;
  readonly batchSize: number;
  /** Stops between batches (shutdown); what was re-sealed stays re-sealed. */
  readonly signal?: AbortSignal;
}

export type RotationResult =
  | { readonly ok: true; readonly resealed: number; readonly remaining: number }
  | { readonly ok: false; readonly resealed: number; readonly problem: string };

export async function rotateKeys(deps: RotationDeps): Promise<RotationResult> {
  const { db, store, cipher, batchSize, signal } = deps;
  const missing = await missingKeys(db.em(), store, cipher);
  if (missing.size > 0) return { ok: false, resealed: 0, problem: describeMissing(missing) };
  let resealed = 0;
  let after: string | undefined;
  for (;;) {
    if (signal?.aborted) return { ok: false, resealed, problem: 'stopped by shutdown before the end; run it again to finish' };
    let problem: string | undefined;
    const last = await db.transactional(async (em) => {
      const rows = await store.lockNotUnder(em, cipher.activeKeyId, after, batchSize);
      if (rows.length === 0) return undefined;
      try {
        await store.reseal(em, await Promise.all(rows.map((row) => resealRow(cipher, row))));
      } catch (err) {
        if (!(err instanceof SealedValueError)) throw err;
        // Find which row, to name it; nothing of this batch is written.
        for (const row of rows) {
          try {
            await resealRow(cipher, row);
          } catch (e) {
            if (!(e instanceof SealedValueError)) throw e;
            problem = `form ${row.id} (user ${row.user_id}): a sealed value ${e.message}; nothing of its batch was re-encrypted`;
            return undefined;
          }
        }
        throw err;
      }
      resealed += rows.length;
      return rows.at(-1)!.id;
    });
    if (problem !== undefined) return { ok: false, resealed, problem };
    if (last === undefined) break;
    after = last;
  }
  // Forms sealed under an older key after this run began (an instance still on the old ring).
  const counts = await store.countByKey(db.em(), (await store.keyIds(db.em())).filter((id) => id !== cipher.activeKeyId));
  const remaining = [...counts.values()].reduce((a, b) => a + b, 0);
  return { ok: true, resealed, remaining };
}

/** Runs the rotation and tells the operator what happened; the exit code of the command. */
export async function rotateKeysCommand(deps: RotationDeps, io: CommandIo): Promise<number> {
  const result = await rotateKeys(deps);
  const key = `"${deps.cipher.activeKeyId}"`;
  if (!result.ok) {
    if (result.resealed > 0) io.out(`re-encrypted ${result.resealed} W-9 forms under key ${key} before stopping`);
    io.err(result.problem);
    return 1;
  }
  io.out(result.resealed === 0 ? `nothing to re-encrypt: every W-9 form is under key ${key}` : `re-encrypted ${result.resealed} W-9 forms under key ${key}`);
  if (result.remaining > 0) {
    io.err(
      `${result.remaining} W-9 forms were written under an older key while this ran: is every instance running with ${key} first in W9_ENCRYPTION_KEYS? Restart them, then run this again`,
    );
    return 1;
  }
  return 0;
}
