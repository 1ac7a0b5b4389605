/**
 * The account lifecycle: registration (no enumeration), email verification, password reset and
 * change. Single-use tokens are random, stored hashed, expire, and a new one voids the previous.
 */
import { LockMode } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/sql';
import { v7 as uuidv7 } from 'uuid';
import { authHooks, type PublicUser } from './contract.ts';
import { authEmails } from './emails.ts';
import { normalizeEmail, type AuthDeps, type RequestMeta } from './deps.ts';
import { AuthOneTimeToken, AuthSession, AuthUser } from './entities.ts';
import { normalizePassword } from './password-policy.ts';
import { authProblems } from './problems.ts';
import { randomToken, sha256Hex } from './secrets.ts';
import { addSeconds } from './sessions.ts';
import { publicUser } from './user-view.ts';

type Purpose = 'verify_email' | 'reset_password';

const LOGIN_LINK = { path: '/login' };
const RESET_REQUEST_LINK = { path: '/forgot-password' };

export class Accounts {
  readonly #d: AuthDeps;

  constructor(deps: AuthDeps) {
    this.#d = deps;
  }

  /**
   * Registers an account, or tells the owner of an existing one by email. Both paths hash the
   * password and queue one email, so neither the answer nor its timing reveals which it was.
   */
  async register(input: { email: string; password: string; displayName: string }, meta: RequestMeta): Promise<void> {
    const d = this.#d;
    this.#assertStrong(input.password, input.email);
    const email = input.email.trim();
    const emailNormalized = normalizeEmail(email);
    const passwordHash = await d.hasher.hash(normalizePassword(input.password));
    await d.db.transactional(async (em) => {
      const existing = await em.findOne(AuthUser, { emailNormalized });
      if (existing) return this.#sendAccountExists(em, existing, meta);
      const now = new Date();
      const user = em.create(AuthUser, {
        id: uuidv7(),
        email,
        emailNormalized,
        displayName: input.displayName.trim(),
        role: 'artist',
        passwordHash,
        emailVerifiedAt: null,
        passwordChangedAt: now,
        createdAt: now,
      });
      await em.flush(); // the unique index decides a race between two registrations
      await this.#sendVerification(em, user, meta);
    }).catch(async (err: unknown) => {
      // Two registrations of one new email at once: the loser is told like any existing account.
      if (!isUniqueViolation(err)) throw err;
      await this.#tellExisting(emailNormalized, meta);
    });
  }

  async verifyEmail(token: string): Promise<PublicUser> {
    const d = this.#d;
    return d.db.transactional(async (em) => {
      const user = await this.#consume(em, token, 'verify_email');
      user.emailVerifiedAt ??= new Date();
      return publicUser(user);
    });
  }

  /** Sends a fresh verification link to an unverified account; says nothing about others. */
  async resendVerification(email: string, meta: RequestMeta): Promise<void> {
    await this.#d.db.transactional(async (em) => {
      const user = await em.findOne(AuthUser, { emailNormalized: normalizeEmail(email) });
      if (user && !user.emailVerifiedAt) await this.#sendVerification(em, user, meta);
    });
  }

  /** Sends a reset link to an existing account; says nothing about others. */
  async forgotPassword(email: string, meta: RequestMeta): Promise<void> {
    const d = this.#d;
    await d.db.transactional(async (em) => {
      const user = await em.findOne(AuthUser, { emailNormalized: normalizeEmail(email) });
      if (!user) return;
      const token = await this.#issue(em, user.id, 'reset_password', d.config.resetTtlSeconds);
      await d.email.send(
        authEmails.passwordReset,
        user.email,
        { displayName: user.displayName, link: { path: '/reset-password', query: { token } }, expiresInMinutes: Math.round(d.config.resetTtlSeconds / 60) },
        { em, requestId: meta.requestId },
      );
    });
  }

  /** Sets a new password with a reset token; every session of the user is revoked. */
  async resetPassword(token: string, password: string, meta: RequestMeta): Promise<void> {
    const d = this.#d;
    // The token is checked (not spent) first, so a weak password does not burn it.
    const tokenRow = await d.db.em().findOne(AuthOneTimeToken, { tokenHash: await sha256Hex(token), purpose: 'reset_password' });
    const live = tokenRow && !tokenRow.usedAt && tokenRow.expiresAt > new Date();
    if (!live) throw authProblems.invalid_token('The reset link is invalid, expired or already used.');
    const owner = await d.db.em().findOneOrFail(AuthUser, { id: tokenRow.userId });
    this.#assertStrong(password, owner.email);
    const passwordHash = await d.hasher.hash(normalizePassword(password));
    const user = await d.db.transactional(async (em) => {
      const u = await this.#consume(em, token, 'reset_password');
      u.passwordHash = passwordHash;
      u.passwordChangedAt = new Date();
      u.emailVerifiedAt ??= new Date(); // the reset link proved the address
      await this.#revokeSessions(em, u.id, 'password_reset');
      await d.email.send(authEmails.passwordChanged, u.email, { displayName: u.displayName, resetLink: RESET_REQUEST_LINK }, { em, requestId: meta.requestId });
      d.emit(authHooks.passwordReset, { userId: u.id, identifier: u.emailNormalized }, { em });
      return u;
    });
    d.logger.info({ requestId: meta.requestId, userId: user.id }, 'password reset');
  }

  /** Changes the password of a signed-in user; every other session is revoked. */
  async changePassword(userId: string, sessionId: string, current: string, next: string, meta: RequestMeta): Promise<void> {
    const d = this.#d;
    const user = await d.db.em().findOneOrFail(AuthUser, { id: userId });
    if (!(await d.hasher.verify(user.passwordHash, normalizePassword(current)))) {
      throw authProblems.invalid_credentials('The current password is not correct.');
    }
    this.#assertStrong(next, user.email, 'newPassword');
    const passwordHash = await d.hasher.hash(normalizePassword(next));
    await d.db.transactional(async (em) => {
      const u = await em.findOneOrFail(AuthUser, { id: userId });
      u.passwordHash = passwordHash;
      u.passwordChangedAt = new Date();
      await this.#revokeSessions(em, userId, 'password_changed', sessionId);
      await d.email.send(authEmails.passwordChanged, u.email, { displayName: u.displayName, resetLink: RESET_REQUEST_LINK }, { em, requestId: meta.requestId });
    });
  }

  #assertStrong(password: string, email: string, path = 'password'): void {
    const weakness = this.#d.passwordPolicy.weakness(password, email);
    if (weakness) throw authProblems.weak_password(`The password ${weakness}${/[.!?]$/.test(weakness) ? '' : '.'}`, { errors: [{ path, message: weakness }] });
  }

  async #tellExisting(emailNormalized: string, meta: RequestMeta): Promise<void> {
    await this.#d.db.transactional(async (em) => this.#sendAccountExists(em, await em.findOneOrFail(AuthUser, { emailNormalized }), meta));
  }

  async #sendAccountExists(em: SqlEntityManager, user: AuthUser, meta: RequestMeta): Promise<void> {
    await this.#d.email.send(
      authEmails.accountExists,
      user.email,
      { displayName: user.displayName, loginLink: LOGIN_LINK, resetLink: RESET_REQUEST_LINK },
      { em, requestId: meta.requestId },
    );
  }

  async #sendVerification(em: SqlEntityManager, user: AuthUser, meta: RequestMeta): Promise<void> {
    const d = this.#d;
    const token = await this.#issue(em, user.id, 'verify_email', d.config.verificationTtlSeconds);
    await d.email.send(
      authEmails.verifyEmail,
      user.email,
      { displayName: user.displayName, link: { path: '/verify-email', query: { token } }, expiresInHours: Math.round(d.config.verificationTtlSeconds / 3600) },
      { em, requestId: meta.requestId },
    );
  }

  /** Issues a single-use token, voiding the user's earlier unused ones of the same purpose. */
  async #issue(em: SqlEntityManager, userId: string, purpose: Purpose, ttlSeconds: number): Promise<string> {
    // Requests that overlap take turns on the user's row, so each one voids the token before it.
    await em.getConnection().execute('select 1 from auth_users where id = ? for update', [userId], 'all', em.getTransactionContext());
    const now = new Date();
    await em.nativeUpdate(AuthOneTimeToken, { userId, purpose, usedAt: null }, { usedAt: now });
    const token = randomToken();
    em.create(AuthOneTimeToken, { tokenHash: await sha256Hex(token), userId, purpose, createdAt: now, expiresAt: addSeconds(now, ttlSeconds), usedAt: null });
    await em.flush();
    return token;
  }

  /** Spends a single-use token (row-locked, so it is spent once) and returns its user. */
  async #consume(em: SqlEntityManager, token: string, purpose: Purpose): Promise<AuthUser> {
    const row = await em.findOne(
      AuthOneTimeToken,
      { tokenHash: await sha256Hex(token), purpose },
      { lockMode: LockMode.PESSIMISTIC_WRITE },
    );
    if (!row || row.usedAt || row.expiresAt <= new Date()) {
      throw authProblems.invalid_token('The link is invalid, expired or already used.');
    }
    row.usedAt = new Date();
    return em.findOneOrFail(AuthUser, { id: row.userId });
  }

  async #revokeSessions(em: SqlEntityManager, userId: string, reason: string, except?: string): Promise<void> {
    const sessions = await em.find(AuthSession, { userId, revokedAt: null, ...(except ? { id: { $ne: except } } : {}) });
    const now = new Date();
    for (const s of sessions) {
      s.revokedAt = now;
      s.revokedReason = reason;
    }
    if (sessions.length > 0) this.#d.emit(authHooks.sessionRevoked, { userId, sessionIds: sessions.map((s) => s.id), reason }, { em });
  }
}


function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && ((err as { code?: unknown }).code === '23505' || (err as { name?: string }).name === 'UniqueConstraintViolationException');
}
