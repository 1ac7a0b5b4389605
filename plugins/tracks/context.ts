/**
 * What the plugin's routes see of its context. Declared here, narrowly, rather than derived from
 * the plugin (`ContextOf<typeof tracksPlugin>`), whose type would then depend on its own routes.
 */
import type { CursorCodec } from '../../core/index.ts';
import type { ArtistsService } from '../artists/contract.ts';
import type { AuthService } from '../auth/contract.ts';
import type { StorageService } from '../storage/contract.ts';
import type { TracksConfig } from './config.ts';
import type { RemovalDeps } from './removal.ts';
import type { ReviewDeps } from './review.ts';
import type { TrackStore } from './track-store.ts';
import type { UploadDeps } from './upload.ts';

/** The plugin's state in one kernel (what `init` returns as `state`). */
export interface TracksState {
  readonly store: TrackStore;
  readonly uploadDeps: UploadDeps;
  readonly reviewDeps: ReviewDeps;
  readonly removalDeps: RemovalDeps;
}

export interface TracksRouteContext {
  readonly config: TracksConfig;
  readonly services: { readonly auth: AuthService; readonly artists: ArtistsService; readonly storage: StorageService };
  /** Read by handlers only: routes are registered before `init` runs. */
  readonly state: TracksState;
  readonly cursors: CursorCodec;
}
