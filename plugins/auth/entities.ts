/**
 * The auth plugin's tables: users, sessions (one per login, i.e. one refresh-token family), the
 * refresh tokens of each session, and single-use tokens (email verification, password reset).
 * Every token is stored only as its SHA-256 hash.
 *
 * The entities say exactly what migration `auth/0001_create_tables` creates (the conformance suite
 * compares them): constraint names are PostgreSQL's defaults there, and the references between
 * the tables are many-to-one relations mapped to the referenced id (`mapToPk`), so `userId` and
 * `sessionId` stay plain uuid strings in code.
 */
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

export const AuthUser = defineEntity({
  name: 'AuthUser',
  tableName: 'auth_users',
  uniques: [{ name: 'auth_users_email_normalized_key', properties: ['emailNormalized'] }],
  // Migration auth/0002: the back office's list order and its substring search (the trigram
  // indexes exist only where pg_trgm could be created).
  indexes: [
    { name: 'auth_users_created_at_id_index', properties: ['createdAt', 'id'] },
    { name: 'auth_users_role_created_at_id_index', properties: ['role', 'createdAt', 'id'] },
    { name: 'auth_users_email_trgm_index', expression: 'create index auth_users_email_trgm_index on auth_users using gin (email_normalized gin_trgm_ops)' },
    {
      name: 'auth_users_display_name_trgm_index',
      expression: 'create index auth_users_display_name_trgm_index on auth_users using gin (lower(display_name) gin_trgm_ops)',
    },
  ],
  properties: {
    id: p.uuid().primary(),
    /** As the user typed it (trimmed), for display and sending. */
    email: p.string().length(320),
    /** Lower-cased: the unique key emails are compared by. */
    emailNormalized: p.string().length(320),
    displayName: p.string().length(100),
    role: p.enum(['artist', 'admin'] as const),
    passwordHash: p.text(),
    emailVerifiedAt: p.datetime().nullable(),
    passwordChangedAt: p.datetime(),
    createdAt: p.datetime(),
    /** Set by each successful login (the back office shows it). */
    lastLoginAt: p.datetime().nullable(),
  },
});
export type AuthUser = InferEntity<typeof AuthUser>;

export const AuthSession = defineEntity({
  name: 'AuthSession',
  tableName: 'auth_sessions',
  properties: {
    id: p.uuid().primary(),
    userId: p.manyToOne(AuthUser).mapToPk().joinColumn('user_id').deleteRule('cascade').foreignKeyName('auth_sessions_user_id_fkey').index(),
    createdAt: p.datetime(),
    lastUsedAt: p.datetime(),
    /** Sliding expiry: pushed forward by every refresh. */
    idleExpiresAt: p.datetime(),
    /** Hard limit, whatever the activity. */
    absoluteExpiresAt: p.datetime(),
    revokedAt: p.datetime().nullable(),
    revokedReason: p.string().length(40).nullable(),
    userAgent: p.string().length(400).nullable(),
    ip: p.string().length(64).nullable(),
    /** Hash of the CSRF token of cookie mode (synchroniser token bound to this session). */
    csrfHash: p.string().length(64).nullable(),
  },
});
export type AuthSession = InferEntity<typeof AuthSession>;

export const AuthRefreshToken = defineEntity({
  name: 'AuthRefreshToken',
  tableName: 'auth_refresh_tokens',
  properties: {
    tokenHash: p.string().length(64).primary(),
    sessionId: p
      .manyToOne(AuthSession)
      .mapToPk()
      .joinColumn('session_id')
      .deleteRule('cascade')
      .foreignKeyName('auth_refresh_tokens_session_id_fkey')
      .index(),
    createdAt: p.datetime(),
    /** Set when rotated: presenting a spent token again revokes the whole session. */
    spentAt: p.datetime().nullable(),
  },
});
export type AuthRefreshToken = InferEntity<typeof AuthRefreshToken>;

export const AuthOneTimeToken = defineEntity({
  name: 'AuthOneTimeToken',
  tableName: 'auth_one_time_tokens',
  properties: {
    tokenHash: p.string().length(64).primary(),
    userId: p.manyToOne(AuthUser).mapToPk().joinColumn('user_id').deleteRule('cascade').foreignKeyName('auth_one_time_tokens_user_id_fkey').index(),
    purpose: p.enum(['verify_email', 'reset_password'] as const),
    createdAt: p.datetime(),
    expiresAt: p.datetime(),
    usedAt: p.datetime().nullable(),
  },
});
export type AuthOneTimeToken = InferEntity<typeof AuthOneTimeToken>;

export const authEntities = [AuthUser, AuthSession, AuthRefreshToken, AuthOneTimeToken];
