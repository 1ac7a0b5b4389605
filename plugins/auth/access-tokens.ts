/**
 * Access tokens: short-lived JWTs (jose) carrying the user id, the session id and the role.
 * HS256 with JWT_SECRET, or EdDSA / ES256 with JWT_PRIVATE_KEY, whose public key is served as a
 * JWKS. Keys are imported once as CryptoKeys (importing per call costs 10x the throughput).
 *
 * A token's signature is checked once: the claims of a verified token are kept, by its exact
 * text, until it expires (WebCrypto's HMAC is a thread-pool job, the dearest step of an
 * authenticated request). This skips only the signature; the session check behind it still runs
 * on every request, so a revoked session's token fails on its next use, on every instance.
 */
import {
  calculateJwkThumbprint,
  exportJWK,
  importJWK,
  importPKCS8,
  jwtVerify,
  SignJWT,
  type CryptoKey,
  type JWK,
} from 'jose';
import type { Role } from './contract.ts';

export interface AccessClaims {
  readonly userId: string;
  readonly sessionId: string;
  readonly role: Role;
}

interface KeySet {
  readonly alg: 'HS256' | 'EdDSA' | 'ES256';
  readonly signKey: CryptoKey;
  readonly verifyKey: CryptoKey;
  readonly kid: string | undefined;
  readonly publicJwk: JWK | undefined;
}

/** Verified tokens kept at most (oldest dropped first): ~4 MB at 10,000 tokens of ~350 bytes. */
const VERIFIED_KEPT = 10_000;

export class AccessTokens {
  readonly #keys: KeySet;
  readonly #issuer: string;
  readonly ttlSeconds: number;
  /** Token text → its claims and `exp` (seconds), for tokens whose signature was verified. */
  readonly #verified = new Map<string, { readonly claims: AccessClaims; readonly exp: number }>();

  private constructor(keys: KeySet, issuer: string, ttlSeconds: number) {
    this.#keys = keys;
    this.#issuer = issuer;
    this.ttlSeconds = ttlSeconds;
  }

  static async create(options: { secret?: string; privateKey?: string; issuer: string; ttlSeconds: number }): Promise<AccessTokens> {
    const keys = options.privateKey ? await asymmetricKeys(options.privateKey) : await symmetricKeys(options.secret!);
    return new AccessTokens(keys, options.issuer, options.ttlSeconds);
  }

  sign(claims: AccessClaims): Promise<string> {
    return new SignJWT({ sid: claims.sessionId, role: claims.role })
      .setProtectedHeader(this.#keys.kid ? { alg: this.#keys.alg, kid: this.#keys.kid, typ: 'at+jwt' } : { alg: this.#keys.alg, typ: 'at+jwt' })
      .setSubject(claims.userId)
      .setIssuer(this.#issuer)
      .setAudience(this.#issuer)
      .setIssuedAt()
      .setExpirationTime(`${this.ttlSeconds}s`)
      .sign(this.#keys.signKey);
  }

  /** The claims of a valid, unexpired token of ours; undefined for anything else. */
  async verify(token: string): Promise<AccessClaims | undefined> {
    const known = this.#verified.get(token);
    if (known) {
      // jose's rule: expired once `exp` is not after the current second.
      if (known.exp > Math.floor(Date.now() / 1000)) return known.claims;
      this.#verified.delete(token);
      return undefined;
    }
    try {
      const { payload } = await jwtVerify(token, this.#keys.verifyKey, {
        algorithms: [this.#keys.alg],
        issuer: this.#issuer,
        audience: this.#issuer,
        typ: 'at+jwt',
        // Every claim we issue must be there: a token without `exp` would never expire.
        requiredClaims: ['exp', 'iat', 'iss', 'aud', 'sub', 'sid', 'role'],
      });
      if (typeof payload.sub !== 'string' || typeof payload.sid !== 'string') return undefined;
      const role = payload.role === 'admin' ? 'admin' : payload.role === 'artist' ? 'artist' : undefined;
      if (!role) return undefined;
      const claims: AccessClaims = { userId: payload.sub, sessionId: payload.sid, role };
      if (this.#verified.size >= VERIFIED_KEPT) this.#verified.delete(this.#verified.keys().next().value!);
      this.#verified.set(token, { claims, exp: payload.exp! });
      return claims;
    } catch {
      return undefined;
    }
  }

  /** The public keys clients verify tokens with; undefined with a symmetric secret. */
  jwks(): { keys: JWK[] } | undefined {
    return this.#keys.publicJwk ? { keys: [this.#keys.publicJwk] } : undefined;
  }
}

async function symmetricKeys(secret: string): Promise<KeySet> {
  const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
    'verify',
  ]);
  return { alg: 'HS256', signKey: key, verifyKey: key, kid: undefined, publicJwk: undefined };
}

async function asymmetricKeys(material: string): Promise<KeySet> {
  let privateJwk: JWK;
  let alg: 'EdDSA' | 'ES256';
  if (material.trim().startsWith('{')) {
    privateJwk = JSON.parse(material) as JWK;
    alg = algorithmOf(privateJwk);
  } else {
    const pem = material.replace(/\\n/g, '\n');
    const tried = await importPKCS8(pem, 'EdDSA', { extractable: true })
      .then((key) => ({ key, alg: 'EdDSA' as const }))
      .catch(() => importPKCS8(pem, 'ES256', { extractable: true }).then((key) => ({ key, alg: 'ES256' as const })));
    privateJwk = await exportJWK(tried.key);
    alg = tried.alg;
  }
  if (!privateJwk.d) throw new Error('JWT_PRIVATE_KEY must be a private key');
  const { d: _d, ...publicPart } = privateJwk;
  const kid = await calculateJwkThumbprint(publicPart);
  const publicJwk: JWK = { ...publicPart, kid, alg, use: 'sig' };
  const signKey = (await importJWK({ ...privateJwk, alg }, alg)) as CryptoKey;
  const verifyKey = (await importJWK({ ...publicPart, alg }, alg)) as CryptoKey;
  return { alg, signKey, verifyKey, kid, publicJwk };
}

function algorithmOf(jwk: JWK): 'EdDSA' | 'ES256' {
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return 'EdDSA';
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') return 'ES256';
  throw new Error('JWT_PRIVATE_KEY must be an Ed25519 (EdDSA) or P-256 (ES256) key');
}
