/**
 * Who may see and change a track. An artist sees only their own tracks, and someone else's track
 * is 404, not 403: its existence is not theirs to learn. Admins see every track but only its
 * artist edits or deletes it (403 for an admin, who can see it exists).
 */
import { coreProblems, type HttpContext } from '../../core/index.ts';
import type { Principal } from '../auth/contract.ts';
import type { TracksRouteContext } from './context.ts';
import type { StoredTrack } from './track-store.ts';

export const isAdmin = (principal: Principal): boolean => principal.user.role === 'admin';

const notFound = () => coreProblems.not_found('There is no track with this id.');

/** The track `id` as the caller may see it; 404 otherwise. */
export async function visibleTrack(ctx: TracksRouteContext, http: HttpContext<unknown>, principal: Principal, id: string): Promise<StoredTrack> {
  const stored = await ctx.state.store.get(http.state.em, id);
  if (!stored || (stored.track.artistId !== principal.user.id && !isAdmin(principal))) throw notFound();
  return stored;
}

/** The caller must be the track's artist: 404 for artists who cannot see it, 403 for admins who can. */
export function requireOwner(principal: Principal, stored: StoredTrack): void {
  if (stored.track.artistId !== principal.user.id) throw coreProblems.forbidden('Only the artist who uploaded a track can change or delete it.');
}

export { notFound };
