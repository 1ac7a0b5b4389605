/**
 * `DELETE /v1/tracks/:id`: the row goes first, in its own transaction (with the `deleted` hook),
 * then the object: a row never points at a missing object. A failed object removal leaves an
 * unreferenced object, logged with its key for an operator.
 */
import type { Database, Logger } from '../../core/index.ts';
import type { StorageService } from '../storage/contract.ts';
import { tracksHooks } from './contract.ts';
import type { Emit } from './emit.ts';
import type { StoredTrack, TrackStore } from './track-store.ts';

export interface RemovalDeps {
  readonly db: Database;
  readonly store: TrackStore;
  readonly storage: StorageService;
  readonly logger: Logger;
  readonly emit: Emit;
}

/** Deletes a `submitted` track of `artistId` and its object; undefined when no such row matched. */
export async function deleteTrack(deps: RemovalDeps, id: string, artistId: string): Promise<StoredTrack | undefined> {
  const removed = await deps.db.transactional(async (em) => {
    const row = await deps.store.remove(em, id, artistId);
    if (row) deps.emit(tracksHooks.deleted, { trackId: id, artistId }, { em });
    return row;
  });
  if (removed) await removeObject(deps, removed.storageKey, 'a deleted track');
  return removed;
}

/** Removes an object; a failure is logged with the key (the one thing left behind), not thrown. */
export async function removeObject(deps: Pick<RemovalDeps, 'storage' | 'logger'>, key: string, of: string): Promise<void> {
  try {
    await deps.storage.delete(key);
  } catch (err) {
    deps.logger.error({ err, key }, `tracks: could not remove the object of ${of}`);
  }
}
