/**
 * email plugin: provides the `email` service. Messages are rendered from typed templates, sealed
 * (AES-256-GCM) into a durable outbox in the caller's transaction, and delivered by a worker with
 * retries and backoff through Resend, SMTP or — in development — files in a directory.
 */
import { coreServices, defineHook, definePlugin } from '../../core/index.ts';
import { metricsServiceRef } from '../metrics/contract.ts';
import { emailServiceRef, type EmailTemplate } from './contract.ts';
import { emailConfigFromEnv, emailConfigSchema, validateEmailConfig } from './config.ts';
import { emailMigrations } from './migrations.ts';
import { EmailOutbox } from './outbox-entity.ts';
import { createEmailRuntime } from './runtime.ts';

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
  requires: { outages: coreServices.outages },
  optional: { metrics: metricsServiceRef },
  config: emailConfigSchema,
  fromEnv: emailConfigFromEnv,
  validate: validateEmailConfig,
  secrets: ['resendApiKey', 'smtpUrl', 'outboxKey', 'jwtSecret'],
  entities: [EmailOutbox],
  migrations: emailMigrations,
  async init(ctx) {
    const metrics = ctx.services.metrics;
    const deliveries = metrics?.counter({
      name: 'empulse_email_deliveries_total',
      help: 'Delivery attempts by transport and outcome: sent, retry (failed, due again), failed (given up)',
      labelNames: ['transport', 'outcome'],
    });
    const runtime = await createEmailRuntime({
      ...(deliveries && { onDelivery: (outcome, transport) => deliveries.inc({ transport, outcome }) }),
      config: ctx.config,
      logger: ctx.logger,
      outages: ctx.services.outages,
      em: () => ctx.db.em(),
      queued: (id, em) => ctx.emit(outboxQueued, { id }, { em }),
      templates: ctx.extensionPoint<EmailTemplate<unknown>>('templates'),
    });
    if (metrics) {
      // Looked up at each scrape: one indexed count, cheaper than tracking every state change.
      let backlog: Promise<{ readonly pending: number; readonly oldestSeconds: number }> | undefined;
      const read = () => (backlog ??= runtime.store.backlog().finally(() => (backlog = undefined)));
      metrics.gauge({ name: 'empulse_email_outbox_pending', help: 'Messages in the outbox waiting for delivery', collect: async (g) => g.set({}, (await read()).pending) });
      metrics.gauge({
        name: 'empulse_email_outbox_oldest_pending_seconds',
        help: 'Age of the oldest message waiting for delivery (0 when none)',
        collect: async (g) => g.set({}, (await read()).oldestSeconds),
      });
    }
    ctx.onStop(() => runtime.transport.close()); // after stop() let the worker finish its sends
    return { services: { email: runtime.service }, state: runtime };
  },
  hooks: (on) => [on(outboxQueued, (_payload, ctx) => ctx.state.worker.nudge())],
  health: {
    email: (ctx, signal) => ctx.state.check(signal),
  },
  start(ctx) {
    ctx.state.worker.start();
  },
  async stop(ctx) {
    await ctx.state.worker.stop(ctx.config.stopGraceMs);
  },
  timeouts: { stop: STOP_TIMEOUT_MS },
});
