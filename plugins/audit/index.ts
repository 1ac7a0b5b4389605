/**
 * audit plugin: the label's record of who did what. Other plugins write entries through the
 * `audit` service inside their own transactions; the table is append-only in the database and
 * hash-chained (`npx empulse audit verify`); admins read it at `GET /v1/admin/audit`.
 */
import { definePlugin } from '../../core/index.ts';
import { authServiceRef } from '../auth/contract.ts';
import { openApiServiceRef } from '../openapi/contract.ts';
import { auditServiceRef, type AuditService } from './contract.ts';
import { auditMigrations } from './migrations.ts';
import { AuditRecorder } from './recorder.ts';
import { registerAuditRoutes } from './routes.ts';
import { AuditEntrySchema } from './schemas.ts';

export const auditPlugin = definePlugin({
  id: 'audit',
  version: '0.1.0',
  kernel: '^0.1.0',
  description: 'Append-only, hash-chained audit log of admin actions',
  requires: { auth: authServiceRef },
  optional: { openapi: openApiServiceRef },
  provides: { audit: auditServiceRef },
  tables: ['audit_entries'],
  migrations: auditMigrations,
  prefixes: ['/v1/admin/audit'],
  init(ctx) {
    const recorder = new AuditRecorder(ctx.db);
    ctx.services.openapi?.nameSchemas({ AuditEntry: AuditEntrySchema });
    const audit: AuditService = {
      record: (entry, { em }) => recorder.record(entry, em),
      requestActor: (http, userId) => ({ actor: { kind: 'user', userId }, requestId: http.state.requestId, ip: http.ip }),
      verify: () => recorder.verify(),
    };
    return { services: { audit }, state: recorder };
  },
  routes(router, ctx) {
    registerAuditRoutes(router, ctx);
  },
  commands: {
    'audit verify': {
      description: "check the audit log's hash chain; exit 1 naming the first broken entry",
      async run(ctx, args, io) {
        if (args.length > 0) {
          io.err('usage: empulse audit verify');
          return 2;
        }
        const result = await ctx.state.verify();
        if (result.ok) {
          io.out(`audit log: ${result.entries} entries, hash chain intact`);
          return 0;
        }
        const { seq, id, problem } = result.brokenAt;
        io.err(`audit log: entry #${seq} (${id}) is broken: ${problem}; the ${result.entries} entries before it are intact`);
        return 1;
      },
    },
  },
});
