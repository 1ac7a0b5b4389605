/**
 * The `email` service other plugins call: renders the template, seals the message and queues it
 * in the durable outbox — in the caller's transaction when it passes one, so the message exists
 * exactly when the caller's changes do. Delivery happens later, in the worker.
 */
import * as v from 'valibot';
import { v7 as uuidv7 } from 'uuid';
import type { SqlEntityManager } from '@mikro-orm/sql';
import type { ExtensionPoint } from '../../core/index.ts';
import type { EmailService, EmailTemplate, SendOptions } from './contract.ts';
import { renderEmail } from './layout.ts';
import type { OutgoingMessage } from './message.ts';
import type { OutboxStore } from './outbox-store.ts';
import type { PayloadCipher } from './payload-cipher.ts';

export interface EmailServiceDeps {
  readonly from: string;
  readonly publicAppUrl: string;
  readonly cipher: PayloadCipher;
  readonly store: OutboxStore;
  /** The templates plugins registered (closed once the kernel runs). */
  readonly templates: ExtensionPoint<EmailTemplate<unknown>>;
  /** A fresh EntityManager, for sends outside a caller's transaction. */
  readonly em: () => SqlEntityManager;
  /** Tells the worker a row was queued; with `em`, only once its transaction has committed. */
  readonly queued: (id: string, em: SqlEntityManager | undefined) => void;
}

const Recipient = v.pipe(v.string(), v.trim(), v.maxLength(320), v.email());

export function createEmailService(deps: EmailServiceDeps): EmailService {
  const registered = new Map<string, EmailTemplate<unknown>>();
  return {
    registerTemplates(...templates) {
      for (const template of templates) {
        const existing = registered.get(template.name);
        if (existing === template) continue;
        if (existing) throw new Error(`email template "${template.name}" is registered twice`);
        deps.templates.add(template); // throws once the kernel runs
        registered.set(template.name, template);
      }
    },
    async send<Data>(template: EmailTemplate<Data>, to: string, data: Data, options: SendOptions = {}): Promise<void> {
      // Callers' bugs, reported at once rather than as delivery failures later.
      if (registered.get(template.name) !== template) {
        throw new TypeError(`email.send: template "${template.name}" is not registered (call email.registerTemplates in your plugin's init)`);
      }
      const recipient = v.safeParse(Recipient, to);
      if (!recipient.success) throw new TypeError(`email.send: "to" is not an email address`);
      const id = uuidv7();
      const message: OutgoingMessage = { from: deps.from, to: recipient.output, ...renderEmail(template, data, deps.publicAppUrl) };
      const payload = await deps.cipher.seal(JSON.stringify(message), id);
      await deps.store.insert(options.em ?? deps.em(), {
        id,
        recipient: recipient.output,
        template: template.name,
        payload,
        requestId: options.requestId?.slice(0, 128),
      });
      deps.queued(id, options.em);
    },
  };
}
