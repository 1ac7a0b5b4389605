/**
 * An admin's decision on an application, as one transaction: the conditional status change, the
 * audit entry and the artist's email commit together or not at all (API.md, "admin plugin": no
 * admin action commits without its entry, and an email never announces a decision that rolled
 * back).
 */
import { coreProblems, type Database, type HttpContext } from '../../core/index.ts';
import type { AuditService } from '../audit/contract.ts';
import type { AuthService, Principal } from '../auth/contract.ts';
import type { EmailService } from '../email/contract.ts';
import type { ArtistProfile } from './contract.ts';
import { artistApprovedEmail, artistRejectedEmail } from './emails.ts';
import type { ProfileStore } from './profile-store.ts';
import { artistsProblems } from './problems.ts';

export interface ReviewDeps {
  readonly db: Database;
  readonly store: ProfileStore;
  readonly auth: AuthService;
  readonly audit: AuditService;
  readonly email: EmailService;
}

export type Review = { readonly decision: 'approved'; readonly reason: string | null } | { readonly decision: 'rejected'; readonly reason: string };

export async function reviewApplication(deps: ReviewDeps, http: HttpContext, reviewer: Principal, userId: string, review: Review): Promise<ArtistProfile> {
  const { db, store, auth, audit, email } = deps;
  return db.transactional(async (em) => {
    const profile = await store.decide(em, userId, { status: review.decision, reason: review.reason, reviewerId: reviewer.user.id });
    if (!profile) {
      // Nothing pending to decide: tell "no such application" from "already decided". When a
      // concurrent review won, this read (a new snapshot) sees its committed decision.
      const current = await store.get(em, userId);
      if (!current) throw coreProblems.not_found('This user has not applied as an artist.');
      throw artistsProblems.invalid_transition(`Only a pending application can be ${review.decision}; this one is ${current.status}.`);
    }
    await audit.record(
      {
        ...audit.requestActor(http, reviewer.user.id),
        action: `artist.${review.decision}`,
        targetType: 'artist',
        targetId: userId,
        reason: review.reason,
        details: { stageName: profile.stageName },
      },
      { em },
    );
    // The account exists: the profile references it, and the update above holds the profile's row.
    const account = await auth.getAccount(userId, { em });
    if (!account) throw new Error(`artists: the account of profile ${userId} is gone; the decision is rolled back`);
    const data = { displayName: account.displayName, stageName: profile.stageName };
    const options = { em, requestId: http.state.requestId };
    if (review.decision === 'approved') await email.send(artistApprovedEmail, account.email, { ...data, reason: review.reason }, options);
    else await email.send(artistRejectedEmail, account.email, { ...data, reason: review.reason }, options);
    return profile;
  });
}
