/**
 * lockout plugin: counts failed logins per normalised email through auth's login gate and locks
 * the identifier after too many (423 account_locked with Retry-After, even for the right
 * password). A success resets the count, a password reset clears the lock, the owner of an
 * existing account gets one email per lockout. Auth works without this plugin.
 */
import { coreServices, definePlugin, defineProblems } from '../../core/index.ts';
import { authHooks, authServiceRef } from '../auth/contract.ts';
import { emailServiceRef } from '../email/contract.ts';
import { metricsServiceRef } from '../metrics/contract.ts';
import { lockoutServiceRef, type LockoutService } from './contract.ts';
import { accountLockedEmail } from './emails.ts';
import { lockoutConfigSchema, validateLockoutConfig } from './config.ts';
import { CounterStore } from './counter-store.ts';
import { lockoutMigrations } from './migrations.ts';
import { Turns } from './turns.ts';

const problems = defineProblems({ account_locked: { status: 423, title: 'Account locked' } });

export const lockoutPlugin = definePlugin({
  id: 'lockout',
  version: '0.1.0',
  kernel: '^0.1.0',
  description: 'Locks an email after repeated failed logins',
  requires: { auth: authServiceRef, outages: coreServices.outages },
  optional: { email: emailServiceRef, metrics: metricsServiceRef },
  provides: { lockout: lockoutServiceRef },
  problems: [problems],
  config: lockoutConfigSchema,
  validate: validateLockoutConfig,
  tables: ['lockout_counters'],
  migrations: lockoutMigrations,
  init(ctx) {
    const store = new CounterStore(ctx.db, ctx.config);
    const turns = new Turns();
    const locks = ctx.services.metrics?.counter({ name: 'empulse_lockout_locks_total', help: 'Login identifiers locked after too many failed logins' });
    ctx.services.email?.registerTemplates(accountLockedEmail);
    const notify = async (identifier: string, lockedUntil: Date, requestId: string) => {
      const email = ctx.services.email;
      const user = email ? await ctx.services.auth.findUserByEmail(identifier) : undefined;
      if (email && user) await email.send(accountLockedEmail, user.email, { lockedUntil, resetLink: { path: '/forgot-password' } }, { requestId });
    };
    ctx.services.auth.addLoginGate({
      name: 'lockout',
      async before(attempt) {
        // Waits (in arrival order, see turns.ts) while attempts in flight fill the threshold.
        const deadline = Date.now() + ctx.config.maxWaitMs;
        const ticket = turns.ticket();
        for (let delay = 10; ; delay = Math.min(delay * 2, 200)) {
          if (!turns.hasEarlier(attempt.identifier, ticket)) {
            const reservation = await store.reserve(attempt.identifier);
            if (reservation.ok) return;
            if (reservation.locked) {
              turns.release(attempt.identifier, true); // the others see the lock now, not at their timers
              throw problems.account_locked('Too many failed logins; try again later or reset your password.', {
                headers: { 'Retry-After': String(reservation.retryAfterSeconds) },
              });
            }
          }
          if (Date.now() > deadline) {
            throw problems.account_locked('Too many logins for this account at once; try again in a moment.', { headers: { 'Retry-After': '1' } });
          }
          await turns.wait(attempt.identifier, ticket, delay);
        }
      },
      async after(attempt, outcome) {
        let settled: Awaited<ReturnType<CounterStore['settle']>> | undefined;
        try {
          settled = await store.settle(attempt.identifier, outcome);
        } finally {
          // A slot is free (or the identifier just locked: every waiter looks).
          turns.release(attempt.identifier, settled?.lockedUntil !== undefined);
        }
        const { lockedUntil } = settled;
        if (lockedUntil) {
          locks?.inc({});
          ctx.logger.warn({ requestId: attempt.requestId, lockedUntil }, 'login identifier locked');
          await notify(attempt.identifier, lockedUntil, attempt.requestId).catch((err: unknown) =>
            ctx.logger.error({ err, requestId: attempt.requestId }, 'lockout email could not be queued'),
          );
        }
      },
    });
    const lockout: LockoutService = {
      status: (identifier) => store.status(identifier),
      statuses: (identifiers) => store.statuses(identifiers),
      lock: (identifier, lock, options) => store.adminLock(identifier, lock, options?.em),
      unlock: (identifier, options) => store.clear(identifier, options?.em),
    };
    return { services: { lockout }, state: { store } };
  },
  // A password reset lifts the failed-login lock, not an administrator's.
  hooks: (on) => [on(authHooks.passwordReset, (payload, ctx) => ctx.state.store.clearFailures(payload.identifier))],
  start(ctx) {
    const sweep = () =>
      ctx.state.store.deleteExpired().catch((err: unknown) => {
        if (!ctx.services.outages.report(err, { job: 'lockout cleanup' })) ctx.logger.warn({ err }, 'lockout cleanup failed');
      });
    void sweep();
    const timer = setInterval(sweep, ctx.config.cleanupIntervalSeconds * 1000);
    ctx.onStop(() => clearInterval(timer));
  },
});
