/** What travels from the email service through the outbox to a transport. */
import type { CheckOutcome, Logger } from '../../core/index.ts';

/** A rendered message, as it is sealed into the outbox row and handed to a transport. */
export interface OutgoingMessage {
  readonly from: string;
  readonly to: string;
  readonly subject: string;
  /** Every message has a plain-text part; the HTML part is an alternative to it. */
  readonly text: string;
  readonly html: string;
  /** The links in the message (the development outbox logs them). */
  readonly links: readonly string[];
}

export interface DeliveryContext {
  /** The outbox row id: stable across retries, so providers that support it can deduplicate. */
  readonly id: string;
  /** Aborted when the attempt times out or the plugin stops. */
  readonly signal: AbortSignal;
  /** The attempt's logger (outbox id, template, attempt, request id). */
  readonly log: Logger;
}

export interface Transport {
  readonly name: 'resend' | 'smtp' | 'outbox';
  /** Resolves once the provider accepted the message; throws (ideally a DeliveryError) otherwise. */
  send(message: OutgoingMessage, context: DeliveryContext): Promise<void>;
  /** Readiness: resolves when the provider is reachable. */
  check(signal: AbortSignal): Promise<CheckOutcome>;
  close(): void | Promise<void>;
}

/**
 * A failed attempt. `permanent` says that retrying the same message cannot succeed (the provider
 * rejected the message or the address itself), so the row is marked failed at once.
 */
export class DeliveryError extends Error {
  override readonly name = 'DeliveryError';
  readonly permanent: boolean;

  constructor(message: string, options: { readonly permanent: boolean; readonly cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.permanent = options.permanent;
  }
}
