/**
 * An admin's decision on a submitted track, as one transaction: the conditional status change, the
 * audit entry and the artist's email commit together or not at all (API.md, "admin plugin": no
 * admin action commits without its entry, and an email never announces a decision that rolled back).
 */
import { coreProblems, type Database, type HttpContext, type Logger } from '../../core/index.ts';
import type { AuditService } from '../audit/contract.ts';
import type { AuthService, Principal } from '../auth/contract.ts';
import type { EmailService } from '../email/contract.ts';
import { tracksHooks, type Track } from './contract.ts';
import type { Emit } from './emit.ts';
import { trackApprovedEmail, trackRejectedEmail } from './emails.ts';
import { tracksProblems } from './problems.ts';
import type { TrackStore } from './track-store.ts';

export interface ReviewDeps {
  readonly db: Database;
  readonly store: TrackStore;
  readonly auth: AuthService;
  readonly audit: AuditService;
  readonly email: EmailService;
  readonly logger: Logger;
  readonly emit: Emit;
}

export type Review = { readonly decision: 'approved'; readonly reason: string | null } | { readonly decision: 'rejected'; readonly reason: string };

export async function reviewTrack(deps: ReviewDeps, http: HttpContext, reviewer: Principal, id: string, review: Review): Promise<Track> {
  const { db, store, auth, audit, email } = deps;
  return db.transactional(async (em) => {
    const decided = await store.decide(em, id, { status: review.decision, reason: review.reason, reviewerId: reviewer.user.id });
    if (!decided) {
      // Nothing submitted to decide: tell "no such track" from "already decided". When a
      // concurrent review won, this read (a new snapshot) sees its committed decision.
      const current = await store.get(em, id);
      if (!current) throw coreProblems.not_found('There is no track with this id.');
      throw tracksProblems.invalid_transition(`Only a submitted track can be ${review.decision}; this one is ${current.track.status}.`);
    }
    const track = decided.track;
    await audit.record(
      {
        ...audit.requestActor(http, reviewer.user.id),
        action: `track.${review.decision}`,
        targetType: 'track',
        targetId: track.id,
        reason: review.reason,
        details: { artistId: track.artistId, title: track.title, sha256: track.sha256 },
      },
      { em },
    );
    const account = await auth.getAccount(track.artistId, { em });
    if (account) {
      const data = { displayName: account.displayName, title: track.title };
      const options = { em, requestId: http.state.requestId };
      if (review.decision === 'approved') await email.send(trackApprovedEmail, account.email, { ...data, reason: review.reason }, options);
      else await email.send(trackRejectedEmail, account.email, { ...data, reason: review.reason }, options);
    } else {
      // The decision stands (it is the label's record); there is nobody left to tell.
      deps.logger.warn({ trackId: track.id, artistId: track.artistId }, 'tracks: the artist of a reviewed track has no account any more; no email sent');
    }
    deps.emit(tracksHooks.reviewed, { trackId: track.id, artistId: track.artistId, status: review.decision, reviewerId: reviewer.user.id }, { em });
    return track;
  });
}
