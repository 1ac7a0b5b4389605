/**
 * The email plugin's contract. Other plugins define the messages they send as templates (typed
 * data, a subject, paragraphs and call-to-action links into the app), register them with the
 * service while they initialise, and send them; the email plugin lays every message out the same
 * way, with a plain-text part, and builds links from PUBLIC_APP_URL.
 */
import type { SqlEntityManager } from '@mikro-orm/sql';
import { createServiceRef } from '../../core/index.ts';

/** A link into the label's web app: the email service prefixes it with PUBLIC_APP_URL. */
export interface AppLink {
  /** Path in the app, e.g. `/verify-email`. */
  readonly path: string;
  readonly query?: Readonly<Record<string, string>>;
}

/** A call-to-action: a button in HTML, a labelled URL in plain text. */
export interface EmailAction {
  readonly label: string;
  readonly link: AppLink;
}

/** The content of one message; the email plugin turns it into the text and HTML parts. */
export interface EmailDraft {
  readonly subject: string;
  /** The recipient's name for the greeting ("Hi Ada,"); without it the greeting is "Hello,". */
  readonly recipientName?: string;
  /** Paragraphs and call-to-action links, in order. */
  readonly blocks: readonly (string | EmailAction)[];
}

/** What a template's `render` may use besides its data. */
export interface RenderContext {
  /** The product name to sign with and mention, e.g. "Empulse". */
  readonly productName: string;
  /** Formats an instant for a message, in UTC (e.g. "2 December 2026 at 18:30 UTC"). */
  formatTime(at: Date): string;
}

declare const dataType: unique symbol;

export interface EmailTemplate<Data> {
  /** Unique across plugins, prefixed with the plugin id: `auth.verify-email`. */
  readonly name: string;
  render(data: Data, ctx: RenderContext): EmailDraft;
  /** Compile-time only. */
  readonly [dataType]?: Data;
}

/** Declares a template; register it with `email.registerTemplates(...)` in your plugin's init. */
export function defineEmailTemplate<Data>(name: string, render: (data: Data, ctx: RenderContext) => EmailDraft): EmailTemplate<Data> {
  if (!/^[a-z][a-z0-9-]*\.[a-z0-9.-]+$/.test(name)) {
    throw new TypeError(`email template "${name}" must be named "<plugin id>.<template>", lower case`);
  }
  return Object.freeze({ name, render });
}

export interface SendOptions {
  /**
   * The caller's transaction: the message is queued in it, so it is sent only if the caller's
   * changes commit (and is never lost once they did).
   */
  readonly em?: SqlEntityManager;
  /** Request id for the logs of every delivery attempt. */
  readonly requestId?: string;
}

export interface EmailService {
  /**
   * Registers the templates a plugin sends. Call it from `init`: the list closes once the kernel
   * runs, and a name registered twice is a boot error.
   */
  registerTemplates(...templates: readonly EmailTemplate<unknown>[]): void;
  /** Renders and queues a message in the durable outbox; delivery is retried with backoff until it succeeds. */
  send<Data>(template: EmailTemplate<Data>, to: string, data: Data, options?: SendOptions): Promise<void>;
}

export const emailServiceRef = createServiceRef<EmailService>('email');
