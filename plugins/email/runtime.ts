/**
 * Wires one running email plugin: key, cipher, outbox store, transport, worker and the service.
 * The result is the plugin's state in one kernel (`ctx.state`); the service handed to other
 * plugins is only the narrow `EmailService` facade.
 */
import type { SqlEntityManager } from '@mikro-orm/sql';
import type { CheckOutcome, ExtensionPoint, Logger, OutageService } from '../../core/index.ts';
import type { EmailService, EmailTemplate } from './contract.ts';
import { cachedCheck } from './cached-check.ts';
import { resolveTransport, type EmailConfig } from './config.ts';
import type { Transport } from './message.ts';
import { loadOutboxKey } from './outbox-key.ts';
import { OutboxStore } from './outbox-store.ts';
import { PayloadCipher } from './payload-cipher.ts';
import { createEmailService } from './service.ts';
import { createEmailTransport } from './transports/index.ts';
import { OutboxWorker, type DeliveryObserver } from './worker.ts';

export interface EmailRuntime {
  readonly service: EmailService;
  readonly transport: Transport;
  readonly worker: OutboxWorker;
  readonly store: OutboxStore;
  /** The readiness check: the transport's, with successes cached briefly. */
  readonly check: (signal: AbortSignal) => Promise<CheckOutcome>;
}

export interface RuntimeDeps {
  readonly config: EmailConfig;
  readonly logger: Logger;
  /** Where a database outage met by the worker is reported (logged once, not per round). */
  readonly outages: OutageService;
  readonly em: () => SqlEntityManager;
  readonly queued: (id: string, em: SqlEntityManager | undefined) => void;
  readonly templates: ExtensionPoint<EmailTemplate<unknown>>;
  /** Told each attempt's outcome (metrics). */
  readonly onDelivery?: DeliveryObserver;
}

export async function createEmailRuntime(deps: RuntimeDeps): Promise<EmailRuntime> {
  const { config, logger } = deps;
  const cipher = new PayloadCipher(await outboxKey(config, logger));
  const store = new OutboxStore(deps.em);
  const transport = createEmailTransport(resolveTransport(config), config);
  const worker = new OutboxWorker({
    store,
    cipher,
    transport,
    logger,
    outages: deps.outages,
    maxAttempts: config.maxAttempts,
    backoff: { baseDelayMs: config.retryBaseDelayMs, maxDelayMs: config.retryMaxDelayMs },
    pollIntervalMs: config.pollIntervalMs,
    batchSize: config.batchSize,
    sendTimeoutMs: config.sendTimeoutMs,
    ...(deps.onDelivery && { onDelivery: deps.onDelivery }),
  });
  const service = createEmailService({ from: config.from, publicAppUrl: config.publicAppUrl, cipher, store, templates: deps.templates, em: deps.em, queued: deps.queued });
  // Checking a directory costs nothing; only a provider's check is worth caching.
  const check =
    transport.name === 'outbox'
      ? (signal: AbortSignal) => transport.check(signal)
      : cachedCheck((signal) => transport.check(signal), config.readinessCacheMs);
  logger.info({ transport: transport.name }, 'email transport ready');
  return { service, transport, worker, check, store };
}

async function outboxKey(config: EmailConfig, logger: Logger): Promise<CryptoKey> {
  const loaded = await loadOutboxKey(config);
  // validate() refuses this case in production. Elsewhere the key lives as long as this kernel,
  // so messages still queued when it stops cannot be opened after a restart: say so.
  if (loaded.source === 'random') {
    logger.warn('no EMAIL_OUTBOX_KEY or JWT_SECRET: queued email is encrypted with a random key of this run and will not survive a restart');
  }
  return loaded.key;
}
