/**
 * Works off the outbox: claims due rows, sends them, records the outcome (sent, retry later with
 * backoff, or failed for good), and sleeps until the next row is due, the poll interval passes
 * (rows queued by other instances) or a new message is queued here. Each attempt is logged with
 * the request id that queued the message — never its content, which carries single-use tokens.
 */
import type { Logger, OutageService } from '../../core/index.ts';
import { retryDelayMs, type BackoffSettings } from './backoff.ts';
import { DeliveryError, type OutgoingMessage, type Transport } from './message.ts';
import type { ClaimedRow, OutboxStore } from './outbox-store.ts';
import type { PayloadCipher } from './payload-cipher.ts';

/** An attempt's outcome: delivered, due again later, or given up on. */
export type DeliveryOutcome = 'sent' | 'retry' | 'failed';
export type DeliveryObserver = (outcome: DeliveryOutcome, transport: string) => void;

/** A claim's lease outlasts an attempt's deadline by this much, for writing its result. */
const LEASE_MARGIN_MS = 60_000;

export interface OutboxWorkerOptions {
  readonly store: OutboxStore;
  readonly cipher: PayloadCipher;
  readonly transport: Transport;
  readonly logger: Logger;
  readonly outages: OutageService;
  readonly maxAttempts: number;
  readonly backoff: BackoffSettings;
  readonly pollIntervalMs: number;
  readonly batchSize: number;
  readonly sendTimeoutMs: number;
  readonly onDelivery?: DeliveryObserver;
}

/** Waiting less than this between rounds would only spin on rows another instance is claiming. */
const MIN_WAIT_MS = 20;

export class OutboxWorker {
  readonly #o: OutboxWorkerOptions;
  /** Aborted at the stop deadline: attempts still running are cut short and rescheduled. */
  readonly #interrupt = new AbortController();
  #state: 'idle' | 'running' | 'stopping' | 'stopped' = 'idle';
  #loop: Promise<void> | undefined;
  #nudged = false;
  #wake: (() => void) | undefined;

  constructor(options: OutboxWorkerOptions) {
    this.#o = options;
  }

  start(): void {
    if (this.#state !== 'idle') return;
    this.#state = 'running';
    this.#loop = this.#run();
  }

  /** A message was queued: look now instead of at the next poll. */
  nudge(): void {
    this.#nudged = true;
    this.#wake?.();
  }

  /**
   * Lets the round in progress finish for up to `graceMs`, then interrupts its attempts; they are
   * recorded as due again at once, so every row ends consistent (pending, sent or failed) and a
   * restart picks up what is left. Resolves when the loop has ended.
   */
  async stop(graceMs: number): Promise<void> {
    if (this.#state === 'idle') this.#state = 'stopped';
    if (this.#state !== 'running') return;
    this.#state = 'stopping';
    this.#wake?.();
    const timer = setTimeout(() => this.#interrupt.abort(new Error('interrupted by shutdown')), graceMs);
    try {
      await this.#loop;
    } finally {
      clearTimeout(timer);
      this.#state = 'stopped';
    }
  }

  async #run(): Promise<void> {
    while (this.#state === 'running') {
      let claimed = 0;
      try {
        claimed = await this.#round();
      } catch (err) {
        // While the database is away, the outage is logged once (core), not every round.
        if (!this.#o.outages.report(err, { job: 'email outbox' })) this.#o.logger.error({ err }, 'email outbox round failed');
      }
      if (this.#state !== 'running') break;
      if (claimed >= this.#o.batchSize) continue; // more may be due right now
      await this.#sleep(await this.#waitMs());
    }
  }

  /** Claims one batch and attempts every row in it; resolves with how many were claimed. */
  async #round(): Promise<number> {
    this.#nudged = false;
    // The lease outlasts an attempt's deadline with room for writing its result.
    const claimedAt = Date.now();
    const rows = await this.#o.store.claim(this.#o.batchSize, this.#o.sendTimeoutMs + LEASE_MARGIN_MS);
    await Promise.all(rows.map((row) => this.#attempt(row, claimedAt)));
    return rows.length;
  }

  async #attempt(row: ClaimedRow, claimedAt: number): Promise<void> {
    const log = this.#o.logger.child({
      outboxId: row.id,
      template: row.template,
      attempt: row.attempts,
      ...(row.requestId !== null && { requestId: row.requestId }),
    });
    try {
      const message = await this.#open(row);
      if (!message) {
        const reason = 'the queued message cannot be decrypted (were EMAIL_OUTBOX_KEY or JWT_SECRET changed since it was queued?)';
        await this.#o.store.markFailed(row.id, row.attempts, reason);
        this.#o.onDelivery?.('failed', this.#o.transport.name);
        log.error({ error: reason }, 'email delivery failed; giving up');
        return;
      }
      const signal = AbortSignal.any([this.#interrupt.signal, AbortSignal.timeout(this.#o.sendTimeoutMs)]);
      const started = performance.now();
      try {
        await this.#o.transport.send(message, { id: row.id, signal, log });
      } catch (err) {
        await this.#failed(row, err, signal, log);
        return;
      }
      const ms = Math.round(performance.now() - started);
      this.#o.onDelivery?.('sent', this.#o.transport.name);
      const recorded = await this.#recordSent(row, claimedAt);
      if (recorded === 'recorded') log.info({ transport: this.#o.transport.name, ms }, 'email sent');
      else if (recorded === 'lease lost') log.warn({ transport: this.#o.transport.name, ms }, 'email sent, but its lease had run out: another attempt may send it again');
      else log.warn({ transport: this.#o.transport.name, ms }, 'email sent, but the database was unavailable to record it: it may be sent again');
    } catch (err) {
      // The database failed while recording: the row stays leased and is due again when the lease ends.
      if (!this.#o.outages.report(err, { job: 'email outbox' })) log.error({ err }, 'email outbox could not record an attempt');
    }
  }

  /**
   * Marks a sent message sent. The provider has it now, so a database outage must not leave it
   * pending (it would be sent again when its lease ends): the mark is retried until it lands,
   * the lease is about to end, or shutdown interrupts.
   */
  async #recordSent(row: ClaimedRow, claimedAt: number): Promise<'recorded' | 'lease lost' | 'unrecorded'> {
    // Until shortly before the lease (taken at the claim) ends: past it, another worker may send it.
    const giveUpAt = claimedAt + this.#o.sendTimeoutMs + LEASE_MARGIN_MS - 5_000;
    for (let delayMs = 100; ; delayMs = Math.min(2000, delayMs * 2)) {
      try {
        return (await this.#o.store.markSent(row.id, row.attempts)) ? 'recorded' : 'lease lost';
      } catch (err) {
        if (!this.#o.outages.report(err, { job: 'email outbox' })) throw err;
        if (this.#interrupt.signal.aborted || Date.now() + delayMs > giveUpAt) return 'unrecorded';
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
    }
  }

  async #open(row: ClaimedRow): Promise<OutgoingMessage | undefined> {
    if (!row.payload) return undefined;
    try {
      return JSON.parse(await this.#o.cipher.open(row.payload, row.id)) as OutgoingMessage;
    } catch {
      return undefined;
    }
  }

  async #failed(row: ClaimedRow, err: unknown, signal: AbortSignal, log: Logger): Promise<void> {
    const interrupted = this.#interrupt.signal.aborted;
    const error = interrupted
      ? 'interrupted by shutdown'
      : signal.aborted
        ? `no answer within ${this.#o.sendTimeoutMs} ms`
        : err instanceof Error
          ? err.message
          : String(err);
    const permanent = err instanceof DeliveryError && err.permanent;
    const transport = this.#o.transport.name;
    if (permanent || row.attempts >= this.#o.maxAttempts) {
      await this.#o.store.markFailed(row.id, row.attempts, error);
      this.#o.onDelivery?.('failed', transport);
      log.error({ transport, error, permanent }, 'email delivery failed; giving up');
      return;
    }
    // An interrupted attempt says nothing about the provider: due again as soon as anyone runs.
    const delayMs = interrupted ? 0 : retryDelayMs(row.attempts, this.#o.backoff);
    await this.#o.store.scheduleRetry(row.id, row.attempts, delayMs, error);
    if (!interrupted) this.#o.onDelivery?.('retry', transport);
    log.warn({ transport, error, retryInMs: delayMs }, 'email delivery failed; will retry');
  }

  async #waitMs(): Promise<number> {
    try {
      const due = await this.#o.store.msUntilNextDue();
      return Math.max(MIN_WAIT_MS, Math.min(this.#o.pollIntervalMs, due ?? this.#o.pollIntervalMs));
    } catch {
      return this.#o.pollIntervalMs;
    }
  }

  #sleep(ms: number): Promise<void> {
    if (this.#nudged || this.#state !== 'running') return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wake = done;
    });
  }
}
