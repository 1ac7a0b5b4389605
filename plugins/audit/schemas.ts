/** The audit plugin's response shapes, for the OpenAPI document. */
import * as v from 'valibot';

export const AuditEntrySchema = v.object({
  id: v.pipe(v.string(), v.uuid()),
  at: v.pipe(v.string(), v.isoTimestamp()),
  actorId: v.nullable(v.pipe(v.string(), v.uuid())),
  actor: v.pipe(v.picklist(['user', 'cli']), v.description('"cli": an operator at the command line (actorId is null)')),
  action: v.pipe(v.string(), v.description('e.g. user.role.changed, artist.approved, track.rejected, w9.revealed')),
  targetType: v.string(),
  targetId: v.nullable(v.string()),
  reason: v.nullable(v.string()),
  requestId: v.nullable(v.string()),
  ip: v.nullable(v.string()),
  details: v.pipe(v.record(v.string(), v.unknown()), v.description('Never holds a secret or a TIN')),
});

export const AuditEntryList = v.object({ items: v.array(AuditEntrySchema), nextCursor: v.nullable(v.string()) });
