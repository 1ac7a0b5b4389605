/** `GET /v1/admin/audit` (API.md "admin plugin"): the log, newest first, filtered, paginated. */
import * as v from 'valibot';
import { page, paginationQuery, type ContextOf, type PluginRouter } from '../../core/index.ts';
import type { auditPlugin } from './index.ts';
import { AuditEntryList } from './schemas.ts';
import { requiresRole } from '../auth/contract.ts';

const Uuid = v.pipe(v.string(), v.uuid('must be a user id'));
const ListQuery = v.object({
  ...paginationQuery,
  actorId: v.optional(Uuid),
  action: v.optional(v.pipe(v.string(), v.maxLength(100))),
  targetId: v.optional(v.pipe(v.string(), v.maxLength(100))),
});
const Position = v.object({ seq: v.pipe(v.number(), v.integer(), v.minValue(1)) });

export function registerAuditRoutes(router: PluginRouter, ctx: ContextOf<typeof auditPlugin>): void {
  router.get(
    '/v1/admin/audit',
    {
      auth: 'required',
      meta: [requiresRole('admin')],
      query: ListQuery,
      summary: 'The audit log, newest first (admin)',
      description: 'Filters combine (and). Each entry is hash-chained to the previous one; `npx empulse audit verify` checks the chain.',
      responses: { 200: { description: 'A page of entries', body: AuditEntryList, headers: { 'Cache-Control': 'no-store' } } },
      problems: ['unauthenticated', 'forbidden'],
    },
    async (http) => {
      const principal = await ctx.services.auth.requireRole(http, 'admin');
      const { limit, cursor, actorId, action, targetId } = http.state.query;
      // The scope binds a cursor to its filters: one from another filter is refused, not misread.
      const scope = `audit.list:${JSON.stringify([actorId ?? null, action ?? null, targetId ?? null])}:${principal.user.id}`;
      const after = cursor === undefined ? undefined : await ctx.cursors.decode(cursor, scope, Position);
      const rows = await ctx.state.list({
        ...(actorId !== undefined && { actorId }),
        ...(action !== undefined && { action }),
        ...(targetId !== undefined && { targetId }),
        ...(after && { beforeSeq: after.seq }),
        limit: limit + 1,
      });
      http.set('Cache-Control', 'no-store');
      http.body = await page(rows, { limit, codec: ctx.cursors, scope, positionOf: (r) => ({ seq: r.seq }), map: (r) => r.entry });
    },
  );
}
