/** The admin plugin's request and response bodies (API.md "admin plugin"). */
import * as v from 'valibot';
import { multiline, paginationQuery } from '../../core/index.ts';

const ROLES = ['artist', 'admin'] as const;

/** Why the admin acts: recorded in the audit log with the action. */
const Reason = v.pipe(v.string(), multiline(), v.trim(), v.minLength(1, 'is required'), v.maxLength(500));

export const UserId = v.object({ id: v.pipe(v.string(), v.maxLength(100)) });

export const UserQuery = v.object({
  ...paginationQuery,
  q: v.optional(v.pipe(v.string(), v.trim(), v.minLength(1, 'must not be empty'), v.maxLength(320))),
  role: v.optional(v.picklist(ROLES, `must be one of ${ROLES.join(', ')}`)),
});

export const UserPosition = v.strictObject({ createdAt: v.pipe(v.string(), v.maxLength(40)), id: v.pipe(v.string(), v.uuid()) });

export const RoleBody = v.object({ role: v.picklist(ROLES, `must be one of ${ROLES.join(', ')}`), reason: Reason });

export const LockBody = v.object({
  reason: Reason,
  until: v.optional(
    v.pipe(
      v.string(),
      v.isoTimestamp('must be an ISO 8601 timestamp with a time zone'),
      v.transform((s) => new Date(s)),
      v.check((d) => d.getTime() > Date.now(), 'must be in the future'),
    ),
  ),
});

export const ReasonBody = v.object({ reason: Reason });

const Timestamp = v.pipe(v.string(), v.isoTimestamp(), v.description('ISO 8601, UTC'));

export const AdminUser = v.object({
  id: v.pipe(v.string(), v.uuid()),
  email: v.string(),
  displayName: v.string(),
  role: v.picklist(ROLES),
  emailVerified: v.boolean(),
  createdAt: Timestamp,
  lastLoginAt: v.nullable(Timestamp),
  locked: v.pipe(v.boolean(), v.description('Logins answer 423 (failed-login lock or an administrator’s lock); always false without the lockout plugin')),
  lockedUntil: v.pipe(v.nullable(Timestamp), v.description('null while locked: until an administrator unlocks')),
  activeSessions: v.pipe(v.number(), v.integer()),
});
export type AdminUser = v.InferOutput<typeof AdminUser>;

export const AdminUserList = v.object({ items: v.array(AdminUser), nextCursor: v.nullable(v.string()) });
