/**
 * admin plugin: the label's back office for accounts (API.md "admin plugin"): find users, change
 * roles without ever leaving the label without an admin, lock and unlock (through the lockout
 * plugin), revoke sessions; every action audited in its own transaction. Adds the CLI command
 * `empulse users set-role`, how an operator makes the first admin.
 */
import { definePlugin } from '../../core/index.ts';
import { auditServiceRef } from '../audit/contract.ts';
import { authServiceRef, type Role } from '../auth/contract.ts';
import { lockoutServiceRef } from '../lockout/contract.ts';
import { openApiServiceRef } from '../openapi/contract.ts';
import { adminProblems } from './problems.ts';
import { registerAdminRoutes } from './routes.ts';
import { AdminUser } from './schemas.ts';
import { UserAdmin } from './users.ts';

const ROLES: readonly Role[] = ['artist', 'admin'];

export const adminPlugin = definePlugin({
  id: 'admin',
  version: '0.1.0',
  kernel: '^0.1.0',
  description: 'Back office: accounts, roles, locks and sessions, every action audited',
  requires: { auth: authServiceRef, audit: auditServiceRef },
  optional: { lockout: lockoutServiceRef, openapi: openApiServiceRef },
  problems: [adminProblems],
  prefixes: ['/v1/admin/users'],
  init(ctx) {
    ctx.services.openapi?.nameSchemas({ AdminUser });
    const { auth, audit, lockout } = ctx.services;
    return { state: new UserAdmin({ db: ctx.db, auth, audit, lockout }) };
  },
  routes(router, ctx) {
    registerAdminRoutes(router, ctx);
  },
  commands: {
    'users set-role': {
      args: '<email> <artist|admin>',
      description: "set a user's role (how the first admin is made); audited with actor cli",
      async run(ctx, args, io) {
        const [email, role] = args;
        if (args.length !== 2 || !email || !ROLES.includes(role as Role)) {
          io.err('usage: empulse users set-role <email> <artist|admin>');
          return 2;
        }
        const user = await ctx.services.auth.findUserByEmail(email);
        if (!user) {
          io.err(`no account has the email ${email}`);
          return 1;
        }
        const result = await ctx.state.setRole(user.id, role as Role, 'set by an operator with "empulse users set-role"', { actor: { kind: 'cli' } });
        if (result.outcome === 'last_admin') {
          io.err(`${user.email} is the only admin; make someone else admin first`);
          return 1;
        }
        if (result.outcome === 'not_found') {
          io.err(`no account has the email ${email}`);
          return 1;
        }
        io.out(
          result.outcome === 'changed'
            ? `${user.email} is now ${role} (was ${result.previousRole}); their sessions were revoked`
            : `${user.email} already has the role ${role}`,
        );
        return 0;
      },
    },
  },
});
