/**
 * What the plugin's routes see of its context. Declared here, narrowly, rather than derived from
 * the plugin (`ContextOf<typeof artistsPlugin>`), whose type would then depend on its own routes.
 */
import type { CursorCodec } from '../../core/index.ts';
import type { AuthService } from '../auth/contract.ts';
import type { ProfileStore } from './profile-store.ts';
import type { ReviewDeps } from './review.ts';

/** The plugin's state in one kernel (what `init` returns as `state`). */
export interface ArtistsState {
  readonly store: ProfileStore;
  readonly reviewDeps: ReviewDeps;
}

export interface ArtistsRouteContext {
  readonly services: { readonly auth: AuthService };
  /** Read by handlers only: routes are registered before `init` runs. */
  readonly state: ArtistsState;
  readonly cursors: CursorCodec;
}
