/** The one place a user row becomes API output: never a hash, token or secret. */
import type { PublicUser } from './contract.ts';
import type { AuthUser } from './entities.ts';

export function publicUser(user: AuthUser): PublicUser {
  return {
    id: user.id,
    email: user.email,
    displayName: user.displayName,
    role: user.role,
    emailVerified: user.emailVerifiedAt !== null && user.emailVerifiedAt !== undefined,
    createdAt: user.createdAt.toISOString(),
  };
}

/** The columns of auth_users that API output shows, as raw SQL returns them. */
export interface UserRow {
  readonly id: string;
  readonly email: string;
  readonly display_name: string;
  readonly role: 'artist' | 'admin';
  readonly email_verified_at: string | Date | null;
  readonly created_at: string | Date;
}

/** A user row read with raw SQL (snake_case columns, timestamps as strings) as API output. */
export function userFromRow(row: UserRow): PublicUser {
  return {
    id: row.id,
    email: row.email,
    displayName: row.display_name,
    role: row.role,
    emailVerified: row.email_verified_at !== null,
    createdAt: new Date(row.created_at).toISOString(),
  };
}
