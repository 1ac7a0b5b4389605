/**
 * The auth plugin's tables: users, sessions (one per login, i.e. one refresh-token family), the
 * refresh tokens of each session, and single-use tokens (email verification, password reset).
 * Every token is stored only as its SHA-256 hash.
 */
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

export const AuthUser = defineEntity({
  name: 'AuthUser',
  tableName: 'auth_users',
  properties: {
    id: p.uuid().primary(),
    /** As the user typed it (trimmed), for display and sending. */
    email: p.string().length(320),
    /** Lower-cased: the unique key emails are compared by. */
    emailNormalized: p.string().length(320).unique(),
    displayName: p.string().length(100),
    role: p.enum(['artist', 'admin'] as const),
    passwordHash: p.text(),
    emailVerifiedAt: p.datetime().nullable(),
    passwordChangedAt: p.datetime(),
    createdAt: p.datetime(),
  },
});
export type AuthUser = InferEntity<typeof AuthUser>;

export const AuthSession = defineEntity({
  name: 'AuthSession',
  tableName: 'auth_sessions',
  properties: {
    id: p.uuid().primary(),
    userId: p.uuid().index(),
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
    sessionId: p.uuid().index(),
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
    userId: p.uuid().index(),
    purpose: p.enum(['verify_email', 'reset_password'] as const),
    createdAt: p.datetime(),
    expiresAt: p.datetime(),
    usedAt: p.datetime().nullable(),
  },
});
export type AuthOneTimeToken = InferEntity<typeof AuthOneTimeToken>;

export const authEntities = [AuthUser, AuthSession, AuthRefreshToken, AuthOneTimeToken];
