/**
 * The email service contract (provided by the email plugin). Other plugins send templated
 * messages through it; links in them are built from the operator's PUBLIC_APP_URL.
 */
import type { SqlEntityManager } from '@mikro-orm/sql';
import { createServiceRef } from '../plugin/service-ref.ts';

/** A link into the label's web app: the email service prefixes it with PUBLIC_APP_URL. */
export interface AppLink {
  /** Path in the app, e.g. `/verify-email`. */
  readonly path: string;
  readonly query?: Readonly<Record<string, string>>;
}

/** Every message the platform sends, with the data each needs. */
export interface EmailTemplates {
  readonly 'verify-email': { readonly displayName: string; readonly link: AppLink; readonly expiresInHours: number };
  readonly 'account-exists': { readonly displayName: string; readonly loginLink: AppLink; readonly resetLink: AppLink };
  readonly 'password-reset': { readonly displayName: string; readonly link: AppLink; readonly expiresInMinutes: number };
  readonly 'password-changed': { readonly displayName: string; readonly resetLink: AppLink };
  readonly 'account-locked': { readonly lockedUntil: Date; readonly resetLink: AppLink };
}

export type EmailTemplateName = keyof EmailTemplates;

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
  /** Queues a message in the durable outbox; delivery is retried with backoff until it succeeds. */
  send<T extends EmailTemplateName>(template: T, to: string, data: EmailTemplates[T], options?: SendOptions): Promise<void>;
}

export const emailServiceRef = createServiceRef<EmailService>('email');
