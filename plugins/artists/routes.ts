/** The artists plugin's HTTP surface (API.md, "artists plugin"). */
import { coreProblems, page, type HttpContext, type PluginRouter } from '../../core/index.ts';
import { requiresRole } from '../auth/contract.ts';
import type { ArtistsRouteContext } from './context.ts';
import { isUuid } from './profile-store.ts';
import { reviewApplication, type Review } from './review.ts';
import { ApplyBody, ApproveBody, ArtistProfile, ArtistProfilePage, QueuePosition, QueueQuery, RejectBody } from './schemas.ts';

const NO_STORE = { 'Cache-Control': 'no-store' };

export function registerArtistsRoutes(router: PluginRouter, ctx: ArtistsRouteContext): void {
  router.get(
    '/v1/artists/me',
    {
      auth: 'required',
      summary: "The caller's artist profile",
      responses: { 200: { description: 'The profile and the state of its application', body: ArtistProfile } },
      problems: ['unauthenticated', 'not_found'],
    },
    async (http) => {
      const principal = await ctx.services.auth.requireUser(http);
      const profile = await ctx.state.store.get(http.state.em, principal.user.id);
      if (!profile) throw coreProblems.not_found('You have not applied as an artist yet: PUT /v1/artists/me to apply.');
      http.set(NO_STORE);
      http.body = profile;
    },
  );

  router.put(
    '/v1/artists/me',
    {
      auth: 'required',
      body: ApplyBody,
      summary: 'Apply as an artist, or edit the profile',
      description:
        'Replaces the profile (an absent bio becomes null, absent links []). A first application, or one after a rejection, is pending review with a new submittedAt; editing a pending profile keeps its place in the queue; an approved profile stays approved.',
      responses: { 200: { description: 'The profile as stored', body: ArtistProfile } },
      problems: ['unauthenticated'],
    },
    async (http) => {
      const principal = await ctx.services.auth.requireUser(http);
      const { stageName, bio, links } = http.state.body;
      http.body = await ctx.state.store.apply(http.state.em, principal.user.id, { stageName, bio: bio || null, links: links ?? [] });
    },
  );

  router.get(
    '/v1/admin/artists',
    {
      auth: 'required',
      meta: [requiresRole('admin')],
      query: QueueQuery,
      summary: 'Artist applications, oldest first (admin)',
      description: 'Filter with ?status= (pending: the review queue). Cursors are tied to the status filter they were issued for.',
      responses: { 200: { description: 'A page of profiles', body: ArtistProfilePage } },
      problems: ['unauthenticated', 'forbidden'],
    },
    async (http) => {
      await ctx.services.auth.requireRole(http, 'admin');
      const { limit, cursor, status } = http.state.query;
      const scope = `artists.admin-queue:${status ?? 'all'}`;
      const after = cursor === undefined ? undefined : await ctx.cursors.decode(cursor, scope, QueuePosition);
      const rows = await ctx.state.store.queue(http.state.em, { status, after, limit: limit + 1 });
      http.set(NO_STORE);
      http.body = await page(rows, { limit, codec: ctx.cursors, scope, positionOf: (row) => row.position, map: (row) => row.profile });
    },
  );

  const reviewRoute = (decision: Review['decision']) => ({
    auth: 'required' as const,
    meta: [requiresRole('admin')],
    summary: decision === 'approved' ? 'Approve a pending application (admin)' : 'Reject a pending application (admin)',
    description: `Records the decision with one audit entry (artist.${decision}) and queues an email to the artist, all in one transaction. Only a pending application can be reviewed: a second review, or the loser of two at once, answers 409 invalid_transition.`,
    responses: { 200: { description: `The profile, now ${decision}`, body: ArtistProfile } },
    problems: ['unauthenticated', 'forbidden', 'not_found', 'invalid_transition'],
  });

  const review = async (http: HttpContext, userId: string, decision: Review) => {
    const reviewer = await ctx.services.auth.requireRole(http, 'admin');
    // A non-uuid names no account, so no application: 404 like any unknown resource, not 422.
    if (!isUuid(userId)) throw coreProblems.not_found('This user has not applied as an artist.');
    return reviewApplication(ctx.state.reviewDeps, http, reviewer, userId, decision);
  };

  router.post('/v1/admin/artists/:userId/approve', { ...reviewRoute('approved'), body: ApproveBody }, async (http) => {
    http.body = await review(http, http.params.userId!, { decision: 'approved', reason: http.state.body?.reason ?? null });
  });

  router.post('/v1/admin/artists/:userId/reject', { ...reviewRoute('rejected'), body: RejectBody }, async (http) => {
    http.body = await review(http, http.params.userId!, { decision: 'rejected', reason: http.state.body.reason });
  });
}
