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
