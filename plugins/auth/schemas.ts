/**
 * The auth plugin's response bodies as valibot schemas (API.md, "auth plugin"), for the OpenAPI
 * document: routes declare them in `responses`, and the plugin names the shared ones (`User`,
 * `TokenPair`, …) so the document refers to them instead of repeating them. The type checks at the
 * bottom keep them in step with what the code actually sends.
 */
import * as v from 'valibot';
import type { PublicUser } from './contract.ts';
import type { SessionView, TokenPair as TokenPairBody } from './sessions.ts';

const Timestamp = v.pipe(v.string(), v.isoTimestamp(), v.description('ISO 8601, UTC'));
const Id = v.pipe(v.string(), v.description('Opaque id'));

export const User = v.pipe(
  v.object({
    id: Id,
    email: v.pipe(v.string(), v.email()),
    displayName: v.string(),
    role: v.picklist(['artist', 'admin']),
    emailVerified: v.boolean(),
    createdAt: Timestamp,
  }),
  v.description('A user as every response shows it: never a hash, token or secret.'),
);

export const TokenPair = v.pipe(
  v.object({
    accessToken: v.pipe(v.string(), v.description('JWT; send it as `Authorization: Bearer <accessToken>`')),
    tokenType: v.literal('Bearer'),
    expiresIn: v.pipe(v.number(), v.integer(), v.description('Seconds until the access token expires (900 by default)')),
    refreshToken: v.optional(
      v.pipe(
        v.string(),
        v.description('Single use: POST /v1/auth/refresh spends it for a new pair. Absent in cookie mode, where it is set in the __Secure-empulse_refresh cookie instead.'),
      ),
    ),
    user: User,
  }),
  v.description(
    'A new session\'s tokens. Cookie mode (login with ?mode=cookie, or refresh by cookie) leaves refreshToken out of the body: it is set in the HttpOnly __Secure-empulse_refresh cookie, with a CSRF token in __Host-empulse_csrf.',
  ),
);

export const Session = v.object({
  id: Id,
  createdAt: Timestamp,
  lastUsedAt: Timestamp,
  userAgent: v.nullable(v.string()),
  ip: v.nullable(v.string()),
  current: v.pipe(v.boolean(), v.description('True for the session of this request')),
});

export const SessionList = v.object({
  items: v.pipe(v.array(Session), v.description('Active sessions, most recently used first')),
  nextCursor: v.pipe(v.nullable(v.string()), v.description('Always null: every session fits in one page')),
});

export const VerificationSent = v.object({ status: v.literal('verification_sent') });
export const Accepted = v.object({ status: v.literal('accepted') });
export const VerifiedUser = v.object({ user: User });

export const Jwks = v.pipe(
  v.object({ keys: v.array(v.looseObject({ kty: v.string(), kid: v.optional(v.string()), alg: v.optional(v.string()), use: v.optional(v.string()) })) }),
  v.description('JSON Web Key Set (RFC 7517) of the access tokens\' public keys'),
);

/** The schemas the document lists by name (`#/components/schemas/<name>`). */
export const namedAuthSchemas = { User, TokenPair, Session, SessionList };

// What the code sends must satisfy the documented schemas (and the other way round for User).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const typesAgree: [
  Same<v.InferOutput<typeof User>, { -readonly [K in keyof PublicUser]: PublicUser[K] }>,
  TokenPairBody extends v.InferOutput<typeof TokenPair> ? true : false,
  SessionView extends v.InferOutput<typeof Session> ? true : false,
] = [true, true, true];
void typesAgree;
