/**
 * The auth plugin's state in one kernel: its account and session logic, the caller resolution
 * and the background work queue. Other plugins never see it: they get the `AuthService` facade
 * (`authServiceFacade` below), which holds no config and no signing key.
 */
import { coreProblems, type ExtensionPoint, type HttpContext } from '../../core/index.ts';
import type { AccountQuery, AccountSummary, AuthService, ListedAccount, InTransaction, LoginGate, Principal, PublicUser, Role, SetRoleResult } from './contract.ts';
import { BackOffice } from './back-office.ts';
import { normalizeEmail } from './deps.ts';
import { AuthUser } from './entities.ts';
import { publicUser } from './user-view.ts';
import { Accounts } from './accounts.ts';
import type { AuthDeps } from './deps.ts';
import { Sessions } from './sessions.ts';

const PRINCIPAL = 'auth.principal';

export class AuthEngine {
  readonly sessions: Sessions;
  readonly accounts: Accounts;
  readonly backOffice: BackOffice;
  readonly deps: AuthDeps;
  readonly #gates: ExtensionPoint<LoginGate>;
  readonly #background = new Set<Promise<void>>();

  constructor(deps: AuthDeps, gates: ExtensionPoint<LoginGate>) {
    this.deps = deps;
    this.#gates = gates;
    this.sessions = new Sessions(deps);
    this.accounts = new Accounts(deps);
    this.backOffice = new BackOffice(deps.db);
  }

  async authenticate(http: HttpContext): Promise<Principal | undefined> {
    if (PRINCIPAL in http.state) return http.state[PRINCIPAL] as Principal | undefined;
    const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(http.get('authorization'));
    const principal = match ? await this.sessions.principal(match[1]!) : undefined;
    http.state[PRINCIPAL] = principal;
    return principal;
  }

  async requireUser(http: HttpContext): Promise<Principal> {
    const principal = await this.authenticate(http);
    if (!principal) {
      throw coreProblems.unauthenticated('Send a valid access token: Authorization: Bearer <token>.', {
        headers: { 'WWW-Authenticate': 'Bearer' },
      });
    }
    return principal;
  }

  async requireRole(http: HttpContext, role: Role): Promise<Principal> {
    const principal = await this.requireUser(http);
    if (principal.user.role !== role) throw coreProblems.forbidden(`This needs the ${role} role.`);
    return principal;
  }

  revokeAllSessions(userId: string, reason: string, options?: InTransaction): Promise<number> {
    return this.sessions.revoke(userId, 'all', reason, undefined, options?.em);
  }

  addLoginGate(gate: LoginGate): void {
    this.#gates.add(gate); // throws once the kernel runs
  }

  async findUserByEmail(email: string): Promise<PublicUser | undefined> {
    const user = await this.deps.db.em().findOne(AuthUser, { emailNormalized: normalizeEmail(email) });
    return user ? publicUser(user) : undefined;
  }

  /**
   * Runs account work after the response (forgot-password, resend-verification): the answer is
   * the same and takes the same time whether or not the account exists (OWASP Forgot Password
   * cheat sheet). Failures are logged with the request id; `settle` waits for what is running.
   */
  inBackground(requestId: string, work: () => Promise<void>): void {
    const run: Promise<void> = work()
      .catch((err: unknown) => {
        // Each lost piece of work is said with its request id (the client already had its 202);
        // an outage behind it is logged once by the core, not as a stack here.
        if (this.deps.outages.report(err, { job: 'account email', requestId })) this.deps.logger.warn({ requestId }, 'background account work not done: a dependency is unavailable');
        else this.deps.logger.error({ err, requestId }, 'background account work failed');
      })
      .finally(() => this.#background.delete(run));
    this.#background.add(run);
  }

  async settle(): Promise<void> {
    while (this.#background.size > 0) await Promise.allSettled([...this.#background]);
  }
}

/** What other plugins get: the engine's public operations, nothing else. */
export function authServiceFacade(engine: AuthEngine): AuthService {
  return Object.freeze({
    authenticate: (http: HttpContext) => engine.authenticate(http),
    requireUser: (http: HttpContext) => engine.requireUser(http),
    requireRole: (http: HttpContext, role: Role) => engine.requireRole(http, role),
    revokeAllSessions: (userId: string, reason: string, options?: InTransaction) => engine.revokeAllSessions(userId, reason, options),
    addLoginGate: (gate: LoginGate) => engine.addLoginGate(gate),
    findUserByEmail: (email: string) => engine.findUserByEmail(email),
    getAccount: (userId: string, options?: InTransaction): Promise<AccountSummary | undefined> => engine.backOffice.get(userId, options?.em),
    listAccounts: (query: AccountQuery): Promise<ListedAccount[]> => engine.backOffice.list(query),
    setRole: (userId: string, role: Role, options: InTransaction): Promise<SetRoleResult> => engine.backOffice.setRole(userId, role, options.em),
  });
}
