/**
 * The `artists` service other plugins use (contract.ts): whether the caller is an approved
 * artist, and anyone's profile. A narrow facade over the profile store.
 */
import type { Database } from '../../core/index.ts';
import type { AuthService } from '../auth/contract.ts';
import type { ArtistsService } from './contract.ts';
import type { ProfileStore } from './profile-store.ts';
import { artistsProblems } from './problems.ts';

export function createArtistsService(deps: { readonly auth: AuthService; readonly db: Database; readonly store: ProfileStore }): ArtistsService {
  const { auth, db, store } = deps;
  return Object.freeze({
    async requireApprovedArtist(http) {
      const principal = await auth.requireUser(http);
      const profile = await store.get(http.state.em, principal.user.id);
      if (!profile) {
        throw artistsProblems.artist_not_approved('Only approved artists can do this: apply with PUT /v1/artists/me first.');
      }
      if (profile.status === 'pending') {
        throw artistsProblems.artist_not_approved('Only approved artists can do this: your application is waiting for review.');
      }
      if (profile.status === 'rejected') {
        throw artistsProblems.artist_not_approved('Only approved artists can do this: your application was not approved; update your profile to apply again.');
      }
      return { ...principal, profile };
    },
    getProfile: (userId: string) => store.get(db.em(), userId),
  } satisfies ArtistsService);
}
