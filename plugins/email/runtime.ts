/**
 * Wires one running email plugin: key, cipher, outbox store, transport, worker and the service.
 * The plugin object is shared by every kernel in a process (tests boot many), so each kernel's
 * running parts hang off the service instance that kernel holds, not off the plugin.
 */
import type { SqlEntityManager } from '@mikro-orm/sql';
import type { CheckOutcome, EmailService, Logger } from '../../core/index.ts';
import { cachedCheck } from './cached-check.ts';
import { resolveTransport, type EmailConfig } from './config.ts';
import type { Transport } from './message.ts';
import { loadOutboxKey } from './outbox-key.ts';
import { OutboxStore } from './outbox-store.ts';
import { PayloadCipher } from './payload-cipher.ts';
import { createEmailService } from './service.ts';
import { createEmailTransport } from './transports/index.ts';
import { OutboxWorker } from './worker.ts';

export interface EmailRuntime {
  readonly service: EmailService;
  readonly transport: Transport;
  readonly worker: OutboxWorker;
  /** The readiness check: the transport's, with successes cached briefly. */
  readonly check: (signal: AbortSignal) => Promise<CheckOutcome>;
}

export interface RuntimeDeps {
  readonly config: EmailConfig;
  readonly logger: Logger;
  readonly em: () => SqlEntityManager;
  readonly queued: (id: string, em: SqlEntityManager | undefined) => void;
}

const runtimes = new WeakMap<object, EmailRuntime>();

/** Outside production with no key configured: one random key for the whole process. */
let processKey: Promise<CryptoKey> | undefined;

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
    maxAttempts: config.maxAttempts,
    backoff: { baseDelayMs: config.retryBaseDelayMs, maxDelayMs: config.retryMaxDelayMs },
    pollIntervalMs: config.pollIntervalMs,
    batchSize: config.batchSize,
    sendTimeoutMs: config.sendTimeoutMs,
  });
  const service = createEmailService({ from: config.from, publicAppUrl: config.publicAppUrl, cipher, store, em: deps.em, queued: deps.queued });
  // Checking a directory costs nothing; only a provider's check is worth caching.
  const check =
    transport.name === 'outbox'
      ? (signal: AbortSignal) => transport.check(signal)
      : cachedCheck((signal) => transport.check(signal), config.readinessCacheMs);
  const runtime = { service, transport, worker, check };
  runtimes.set(service, runtime);
  logger.info({ transport: transport.name }, 'email transport ready');
  return runtime;
}

/** The running parts behind a service instance this module created. */
export function runtimeOf(service: EmailService): EmailRuntime {
  const runtime = runtimes.get(service);
  if (!runtime) throw new Error('email: this service was not created by the email plugin');
  return runtime;
}

async function outboxKey(config: EmailConfig, logger: Logger): Promise<CryptoKey> {
  if (config.outboxKey !== undefined || config.jwtSecret) return (await loadOutboxKey(config)).key;
  // validate() refuses this case in production. Elsewhere the key lives as long as the process,
  // so messages still queued when it exits cannot be opened after a restart: say so, once.
  if (!processKey) {
    logger.warn('no EMAIL_OUTBOX_KEY or JWT_SECRET: queued email is encrypted with a random per-process key and will not survive a restart');
    processKey = loadOutboxKey({}).then((k) => k.key);
  }
  return processKey;
}
