/**
 * Sessions: login, refresh-token rotation with reuse detection, logout, listing and revoking, and
 * resolving the caller of a request. A session is one refresh-token family; revoking it stops its
 * access tokens at their next use, because every authenticated request checks the session.
 */
import { LockMode } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/sql';
import { v7 as uuidv7 } from 'uuid';
import { authHooks, type Principal, type PublicUser } from './contract.ts';
import { normalizeEmail, type AuthDeps, type RequestMeta } from './deps.ts';
import { AuthRefreshToken, AuthSession, AuthUser } from './entities.ts';
import { normalizePassword } from './password-policy.ts';
import { authProblems } from './problems.ts';
import { randomToken, sha256Hex } from './secrets.ts';
import { publicUser, userFromRow, type UserRow as PrincipalRow } from './user-view.ts';

export interface TokenPair {
  readonly accessToken: string;
  readonly tokenType: 'Bearer';
  readonly expiresIn: number;
  readonly refreshToken: string;
  readonly user: PublicUser;
}

export interface IssuedSession {
  readonly pair: TokenPair;
  readonly sessionId: string;
  /** Set when the session was opened in cookie mode. */
  readonly csrfToken: string | undefined;
}

export interface SessionView {
  readonly id: string;
  readonly createdAt: string;
  readonly lastUsedAt: string;
  readonly userAgent: string | null;
  readonly ip: string | null;
  readonly current: boolean;
}

/** The session check of every authenticated request: one prepared statement, outside the ORM. */
const PRINCIPAL_QUERY = {
  name: 'empulse_auth_principal',
  text: `select u.id, u.email, u.display_name, u.role, u.email_verified_at, u.created_at
           from auth_sessions s join auth_users u on u.id = s.user_id
          where s.id = $1 and s.user_id = $2 and s.revoked_at is null
            and s.idle_expires_at > now() and s.absolute_expires_at > now()`,
} as const;

/**
 * A login's writes as one statement (its constraints are checked at its end, so the refresh
 * token may reference the session inserted beside it): $1 user, $2 now, $3 session id, $4 idle
 * and $5 absolute expiry, $6 user agent, $7 ip, $8 CSRF hash, $9 refresh token hash.
 */
const OPEN_SESSION = {
  name: 'empulse_auth_open_session',
  text: `with touched as (update auth_users set last_login_at = $2 where id = $1),
              opened as (insert into auth_sessions (id, user_id, created_at, last_used_at, idle_expires_at, absolute_expires_at, user_agent, ip, csrf_hash)
                         values ($3, $1, $2, $2, $4, $5, $6, $7, $8))
         insert into auth_refresh_tokens (token_hash, session_id, created_at) values ($9, $3, $2)`,
} as const;

export class Sessions {
  readonly #d: AuthDeps;

  constructor(deps: AuthDeps) {
    this.#d = deps;
  }

  async login(email: string, password: string, meta: RequestMeta, cookieMode: boolean): Promise<IssuedSession> {
    const d = this.#d;
    const identifier = normalizeEmail(email);
    const attempt = { identifier, ip: meta.ip, requestId: meta.requestId };
    try {
      for (const gate of d.gates) await gate.before(attempt);
    } catch (err) {
      d.countLogin('refused');
      throw err;
    }

    let user: AuthUser | null;
    let valid: boolean;
    try {
      user = await d.db.em().findOne(AuthUser, { emailNormalized: identifier });
      const candidate = normalizePassword(password);
      valid = user ? await d.hasher.verify(user.passwordHash, candidate) : await d.hasher.verifyDummy(candidate);
    } catch (err) {
      d.countLogin('error');
      for (const gate of d.gates) await gate.after?.(attempt, 'error');
      throw err;
    }
    for (const gate of d.gates) await gate.after?.(attempt, valid ? 'succeeded' : 'failed');
    if (!user || !valid) {
      d.countLogin('invalid_credentials');
      d.emit(authHooks.loginFailed, { identifier, ip: meta.ip, reason: 'invalid_credentials' });
      throw authProblems.invalid_credentials('The email or password is not correct.');
    }
    if (!user.emailVerifiedAt) {
      d.countLogin('email_not_verified');
      d.emit(authHooks.loginFailed, { identifier, ip: meta.ip, reason: 'email_not_verified' });
      throw authProblems.email_not_verified('Verify your email address first; we can send the link again.');
    }
    const issued = await this.#open(user, meta, cookieMode);
    d.countLogin('succeeded');
    d.emit(authHooks.loginSucceeded, { userId: user.id, identifier, ip: meta.ip });
    return issued;
  }

  /**
   * Spends a refresh token for a new pair. A spent token presented again revokes its session.
   * Hot path: one locking read (token, session and user rows joined) and one write statement.
   * The row locks make concurrent refreshes of one token take turns: the second sees it spent.
   */
  async refresh(refreshToken: string, meta: RequestMeta): Promise<IssuedSession & { readonly cookieMode: boolean }> {
    const d = this.#d;
    const tokenHash = await sha256Hex(refreshToken);
    const next = randomToken();
    const nextHash = await sha256Hex(next);
    const outcome = await d.db.transactional(async (em) => {
      const conn = em.getConnection();
      const trx = em.getTransactionContext();
      const row = (await conn.execute(
        `select t.spent_at, s.id as session_id, s.csrf_hash,
                (s.revoked_at is null and s.idle_expires_at > now() and s.absolute_expires_at > now()) as live,
                u.id, u.email, u.display_name, u.role, u.email_verified_at, u.created_at
           from auth_refresh_tokens t
           join auth_sessions s on s.id = t.session_id
           join auth_users u on u.id = s.user_id
          where t.token_hash = ?
            for update of t, s`,
        [tokenHash],
        'get',
        trx,
      )) as (PrincipalRow & { spent_at: unknown; session_id: string; csrf_hash: string | null; live: boolean }) | undefined;
      if (!row || !row.live) return { kind: 'invalid' as const };
      if (row.spent_at) {
        await conn.execute(
          "update auth_sessions set revoked_at = now(), revoked_reason = 'refresh_token_reused' where id = ?",
          [row.session_id],
          'run',
          trx,
        );
        d.emit(authHooks.sessionRevoked, { userId: row.id, sessionIds: [row.session_id], reason: 'refresh_token_reused' }, { em });
        return { kind: 'reused' as const };
      }
      await conn.execute(
        `with spent as (update auth_refresh_tokens set spent_at = now() where token_hash = ?),
              fresh as (insert into auth_refresh_tokens (token_hash, session_id, created_at) values (?, ?, now()))
         update auth_sessions
            set last_used_at = now(), idle_expires_at = least(now() + make_interval(secs => ?), absolute_expires_at)
          where id = ?`,
        [tokenHash, nextHash, row.session_id, d.config.refreshIdleTtlSeconds, row.session_id],
        'run',
        trx,
      );
      const pair = await this.#pair(userFromRow(row), row.session_id, next);
      return { kind: 'ok' as const, issued: { pair, sessionId: row.session_id, csrfToken: undefined, cookieMode: row.csrf_hash !== null } };
    });
    if (outcome.kind === 'invalid') throw authProblems.invalid_refresh_token('The refresh token is not valid; log in again.');
    if (outcome.kind === 'reused') {
      d.logger.warn({ requestId: meta.requestId, ip: meta.ip }, 'refresh token reused; session revoked');
      throw authProblems.refresh_token_reused('This refresh token was already used; the session has been revoked. Log in again.');
    }
    return outcome.issued;
  }

  /** The session a refresh token belongs to (for cookie-mode logout and CSRF checks). */
  async sessionOfRefreshToken(refreshToken: string): Promise<AuthSession | undefined> {
    const token = await this.#d.db.em().findOne(AuthRefreshToken, { tokenHash: await sha256Hex(refreshToken) });
    if (!token) return undefined;
    return (await this.#d.db.em().findOne(AuthSession, { id: token.sessionId })) ?? undefined;
  }

  /** With `inside`, in the caller's transaction (the hook then waits for its commit). */
  async revoke(userId: string, sessionIds: readonly string[] | 'all', reason: string, except?: string, inside?: SqlEntityManager): Promise<number> {
    const d = this.#d;
    const work = async (em: SqlEntityManager) => {
      const ids = sessionIds === 'all' ? undefined : sessionIds.filter((s) => s !== except);
      const where = { userId, revokedAt: null, ...(ids ? { id: { $in: ids } } : except ? { id: { $ne: except } } : {}) };
      const sessions = await em.find(AuthSession, where, { lockMode: LockMode.PESSIMISTIC_WRITE });
      const now = new Date();
      for (const s of sessions) {
        s.revokedAt = now;
        s.revokedReason = reason;
      }
      if (sessions.length > 0) {
        d.emit(authHooks.sessionRevoked, { userId, sessionIds: sessions.map((s) => s.id), reason }, { em });
      }
      await em.flush();
      return sessions.length;
    };
    return inside ? work(inside) : d.db.transactional(work);
  }

  async list(userId: string, currentSessionId: string): Promise<SessionView[]> {
    const now = new Date();
    const sessions = await this.#d.db.em().find(
      AuthSession,
      { userId, revokedAt: null, idleExpiresAt: { $gt: now }, absoluteExpiresAt: { $gt: now } },
      { orderBy: { lastUsedAt: 'desc' } },
    );
    return sessions.map((s) => ({
      id: s.id,
      createdAt: s.createdAt.toISOString(),
      lastUsedAt: s.lastUsedAt.toISOString(),
      userAgent: s.userAgent ?? null,
      ip: s.ip ?? null,
      current: s.id === currentSessionId,
    }));
  }

  /**
   * The caller of a request with this access token, if the token and its session are valid now.
   * One query (session joined with its user): this runs on every authenticated request.
   */
  async principal(accessToken: string): Promise<Principal | undefined> {
    const claims = await this.#d.tokens.verify(accessToken);
    if (!claims) return undefined;
    const [row] = await this.#d.db.query<PrincipalRow>(PRINCIPAL_QUERY, [claims.sessionId, claims.userId]);
    return row ? { sessionId: claims.sessionId, user: userFromRow(row) } : undefined;
  }

  /**
   * Opens a session (login): the user's last login, the session and its first refresh token in
   * one statement, so one round trip and all or nothing.
   */
  async #open(user: AuthUser, meta: RequestMeta, cookieMode: boolean): Promise<IssuedSession> {
    const d = this.#d;
    const now = new Date();
    const csrfToken = cookieMode ? randomToken() : undefined;
    const sessionId = uuidv7();
    const refresh = randomToken();
    await d.db.query(OPEN_SESSION, [
      user.id,
      now,
      sessionId,
      addSeconds(now, d.config.refreshIdleTtlSeconds),
      addSeconds(now, d.config.refreshAbsoluteTtlSeconds),
      meta.userAgent?.slice(0, 400) ?? null,
      meta.ip.slice(0, 64),
      csrfToken ? await sha256Hex(csrfToken) : null,
      await sha256Hex(refresh),
    ]);
    return { pair: await this.#pair(publicUser(user), sessionId, refresh), sessionId, csrfToken };
  }

  async #pair(user: PublicUser, sessionId: string, refreshToken: string): Promise<TokenPair> {
    const tokens = this.#d.tokens;
    return {
      accessToken: await tokens.sign({ userId: user.id, sessionId, role: user.role }),
      tokenType: 'Bearer',
      expiresIn: tokens.ttlSeconds,
      refreshToken,
      user,
    };
  }
}

export function addSeconds(date: Date, seconds: number): Date {
  return new Date(date.getTime() + seconds * 1000);
}
