/**
 * The artists service contract (provided by the artists plugin): artist profiles and their
 * approval, for plugins whose routes only approved artists may use (tracks).
 */
import { createServiceRef, type HttpContext } from '../../core/index.ts';
import type { Principal } from '../auth/contract.ts';

export type ArtistStatus = 'pending' | 'approved' | 'rejected';

/** API.md `ArtistProfile`. */
export interface ArtistProfile {
  readonly userId: string;
  readonly stageName: string;
  readonly bio: string | null;
  /** https URLs, at most 10. */
  readonly links: readonly string[];
  readonly status: ArtistStatus;
  readonly reviewReason: string | null;
  readonly submittedAt: string;
  readonly reviewedAt: string | null;
}

export interface ArtistsService {
  /** The caller, when they are an approved artist; else 401, or 403 `artist_not_approved`. */
  requireApprovedArtist(http: HttpContext): Promise<Principal & { readonly profile: ArtistProfile }>;
  /** A user's artist profile, if they applied. */
  getProfile(userId: string): Promise<ArtistProfile | undefined>;
}

export const artistsServiceRef = createServiceRef<ArtistsService>('artists');
