/**
 * A plugin that only knows the email contract (as auth does), handing the service to the test.
 * It registers auth's and lockout's templates, which the email tests send.
 */
import { definePlugin } from '../../core/index.ts';
import { emailServiceRef, type EmailService, type EmailTemplate, type SendOptions } from '../../plugins/email/contract.ts';
import { authEmails } from '../../plugins/auth/emails.ts';
import { accountLockedEmail } from '../../plugins/lockout/emails.ts';

export function emailConsumer(receive: (email: EmailService) => void) {
  return definePlugin({
    id: 'sender',
    version: '1.0.0',
    requires: { email: emailServiceRef },
    init(ctx) {
      ctx.services.email.registerTemplates(...Object.values(authEmails), accountLockedEmail);
      receive(ctx.services.email);
    },
  });
}

/** The templates the email tests send, by name. */
export const testTemplates = new Map<string, EmailTemplate<unknown>>(
  [...Object.values(authEmails), accountLockedEmail].map((t) => [t.name, t as EmailTemplate<unknown>]),
);

/** Sends a template by its name (`auth.verify-email`), for tables of test cases. */
export function sendByName(email: EmailService, name: string, to: string, data: unknown, options?: SendOptions): Promise<void> {
  const template = testTemplates.get(name);
  if (!template) throw new Error(`no test template named ${name}`);
  return email.send(template, to, data, options);
}
