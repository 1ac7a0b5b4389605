/** The admin plugin's HTTP surface (API.md "admin plugin"): every route needs the admin role. */
import { coreProblems, page, type ContextOf, type HttpContext, type PluginRouter } from '../../core/index.ts';
import { requiresRole, type Principal } from '../auth/contract.ts';
import type { adminPlugin } from './index.ts';
import { adminProblems } from './problems.ts';
import { AdminUser, AdminUserList, LockBody, ReasonBody, RoleBody, UserId, UserPosition, UserQuery } from './schemas.ts';
import type { Actor } from './users.ts';

const NO_STORE = { 'Cache-Control': 'no-store' };
const USER_NOT_FOUND = 'No user with this id.';

export function registerAdminRoutes(router: PluginRouter, ctx: ContextOf<typeof adminPlugin>): void {
  const admin = async (http: HttpContext): Promise<{ principal: Principal; actor: Actor }> => {
    const principal = await ctx.services.auth.requireRole(http, 'admin');
    http.set('Cache-Control', 'no-store');
    return { principal, actor: ctx.services.audit.requestActor(http, principal.user.id) };
  };
  const common = { auth: 'required', meta: [requiresRole('admin')], problems: ['unauthenticated', 'forbidden'] } as const;

  router.get(
    '/v1/admin/users',
    { ...common, query: UserQuery, summary: 'Find accounts (admin)', description: '`q` matches part of the email or the display name, case-insensitively. Newest accounts first.', responses: { 200: { description: 'A page of accounts', body: AdminUserList, headers: NO_STORE } } },
    async (http) => {
      const { principal } = await admin(http);
      const { limit, cursor, q, role } = http.state.query;
      const scope = `admin.users:${JSON.stringify([q ?? null, role ?? null])}:${principal.user.id}`;
      const after = cursor === undefined ? undefined : await ctx.cursors.decode(cursor, scope, UserPosition);
      const rows = await ctx.services.auth.listAccounts({ ...(q !== undefined && { q }), ...(role !== undefined && { role }), ...(after && { after }), limit: limit + 1 });
      const served = await page(rows, { limit, codec: ctx.cursors, scope, positionOf: (r) => ({ ...r.position }) });
      http.body = { items: await ctx.state.viewAll(served.items.map((r) => r.account)), nextCursor: served.nextCursor };
    },
  );

  router.get(
    '/v1/admin/users/:id',
    { ...common, params: UserId, summary: 'One account (admin)', responses: { 200: { description: 'The account', body: AdminUser, headers: NO_STORE } }, problems: [...common.problems, 'not_found'] },
    async (http) => {
      await admin(http);
      const account = await ctx.services.auth.getAccount(http.state.params.id);
      if (!account) throw coreProblems.not_found(USER_NOT_FOUND);
      http.body = await ctx.state.view(account);
    },
  );

  router.put(
    '/v1/admin/users/:id/role',
    { ...common, params: UserId, body: RoleBody, summary: "Change a user's role (admin)", description: 'The user’s sessions are revoked when the role changes, so the new role applies from their next request. Audited as user.role.changed.', responses: { 200: { description: 'The account with its new role', body: AdminUser, headers: NO_STORE } }, problems: [...common.problems, 'not_found', 'last_admin'] },
    async (http) => {
      const { actor } = await admin(http);
      const { role, reason } = http.state.body;
      const result = await ctx.state.setRole(http.state.params.id, role, reason, actor);
      if (result.outcome === 'not_found') throw coreProblems.not_found(USER_NOT_FOUND);
      if (result.outcome === 'last_admin') throw adminProblems.last_admin('This is the only admin; make someone else admin first.');
      http.body = result.user;
    },
  );

  router.post(
    '/v1/admin/users/:id/lock',
    { ...common, params: UserId, body: LockBody, summary: 'Lock an account (admin; needs the lockout plugin)', description: 'Logins answer 423 account_locked until unlocked or `until` (a password reset does not lift it); every session is revoked. Without `until`, the 423 carries Retry-After: 3600 (the lock has no end; that is when to ask again). Without the lockout plugin: 404 not_found.', responses: { 200: { description: 'The account, locked', body: AdminUser, headers: NO_STORE } }, problems: [...common.problems, 'not_found', 'cannot_lock_self'] },
    async (http) => {
      const { principal, actor } = await admin(http);
      requireLockout(ctx);
      if (http.state.params.id === principal.user.id) throw adminProblems.cannot_lock_self('An admin cannot lock their own account.');
      const user = await ctx.state.lock(http.state.params.id, http.state.body.until, http.state.body.reason, actor);
      if (!user) throw coreProblems.not_found(USER_NOT_FOUND);
      http.body = user;
    },
  );

  router.post(
    '/v1/admin/users/:id/unlock',
    { ...common, params: UserId, body: ReasonBody, summary: 'Unlock an account (admin; needs the lockout plugin)', description: 'Lifts an administrator’s lock and any failed-login lock. Without the lockout plugin: 404 not_found.', responses: { 200: { description: 'The account, unlocked', body: AdminUser, headers: NO_STORE } }, problems: [...common.problems, 'not_found'] },
    async (http) => {
      const { actor } = await admin(http);
      requireLockout(ctx);
      const user = await ctx.state.unlock(http.state.params.id, http.state.body.reason, actor);
      if (!user) throw coreProblems.not_found(USER_NOT_FOUND);
      http.body = user;
    },
  );

  router.post(
    '/v1/admin/users/:id/revoke-sessions',
    { ...common, params: UserId, body: ReasonBody, summary: "Revoke every session of a user (admin)", description: 'Their access tokens fail on their next use. Audited as user.sessions.revoked.', responses: { 204: 'Revoked' }, problems: [...common.problems, 'not_found'] },
    async (http) => {
      const { actor } = await admin(http);
      if (!(await ctx.state.revokeSessions(http.state.params.id, http.state.body.reason, actor))) throw coreProblems.not_found(USER_NOT_FOUND);
      http.status = 204;
    },
  );
}

/** Lock and unlock exist only with the lockout plugin (API.md: 404 when it is off). */
function requireLockout(ctx: ContextOf<typeof adminPlugin>): void {
  if (!ctx.services.lockout) throw coreProblems.not_found('Locking accounts needs the lockout plugin, which is not enabled.');
}
