/**
 * email plugin: provides the `email` service. Messages are rendered from typed templates, sealed
 * (AES-256-GCM) into a durable outbox in the caller's transaction, and delivered by a worker with
 * retries and backoff through Resend, SMTP or — in development — files in a directory.
 */
import { defineHook, definePlugin, emailServiceRef } from '../../core/index.ts';
import { emailConfigFromEnv, emailConfigSchema, validateEmailConfig } from './config.ts';
import { emailMigrations } from './migrations.ts';
import { EmailOutbox } from './outbox-entity.ts';
import { createEmailRuntime, runtimeOf } from './runtime.ts';

/**
 * Internal: a message was queued. Emitted with the caller's EntityManager, so the kernel delivers
 * it only after the caller's transaction commits — before that the worker could not see the row.
 */
const outboxQueued = defineHook<{ readonly id: string }>('email.outbox.queued');

/** The stop phase's budget; the worker's `stopGraceMs` (≤ 4 s) leaves time to record interrupted attempts. */
const STOP_TIMEOUT_MS = 5_000;

export const emailPlugin = definePlugin({
  id: 'email',
  version: '0.1.0',
  kernel: '^0.1.0',
  description: 'Templated email through a durable, encrypted outbox (Resend, SMTP or a development directory)',
  provides: { email: emailServiceRef },
  config: emailConfigSchema,
  fromEnv: emailConfigFromEnv,
  validate: validateEmailConfig,
  secrets: ['resendApiKey', 'smtpUrl', 'outboxKey', 'jwtSecret'],
  entities: [EmailOutbox],
  migrations: emailMigrations,
  async init(ctx) {
    const runtime = await createEmailRuntime({
      config: ctx.config,
      logger: ctx.logger,
      em: () => ctx.db.em(),
      queued: (id, em) => ctx.emit(outboxQueued, { id }, { em }),
    });
    return { email: runtime.service };
  },
  hooks: (on) => [on(outboxQueued, (_payload, ctx) => runtimeOf(ctx.services.email).worker.nudge())],
  health: {
    email: (ctx, signal) => runtimeOf(ctx.services.email).check(signal),
  },
  start(ctx) {
    runtimeOf(ctx.services.email).worker.start();
  },
  async stop(ctx) {
    const runtime = runtimeOf(ctx.services.email);
    await runtime.worker.stop(ctx.config.stopGraceMs);
    await runtime.transport.close();
  },
  timeouts: { stop: STOP_TIMEOUT_MS },
});
