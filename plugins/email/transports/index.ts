/** Picks the transport the validated options name. */
import type { EmailConfig, TransportName } from '../config.ts';
import type { Transport } from '../message.ts';
import { outboxTransport } from './outbox.ts';
import { resendTransport } from './resend.ts';
import { smtpTransport } from './smtp.ts';

export function createEmailTransport(name: TransportName, config: EmailConfig): Transport {
  switch (name) {
    case 'resend':
      return resendTransport({ apiKey: required(config.resendApiKey, 'RESEND_API_KEY'), baseUrl: config.resendBaseUrl });
    case 'smtp':
      return smtpTransport({ url: required(config.smtpUrl, 'SMTP_URL'), timeoutMs: config.sendTimeoutMs });
    case 'outbox':
      return outboxTransport({ dir: config.outboxDir });
  }
}

/** validate() already reported a missing setting; this only narrows the type. */
function required(value: string | undefined, variable: string): string {
  if (!value) throw new Error(`${variable} is not set`);
  return value;
}
