/** Delivery over SMTP with nodemailer (SMTP_URL, e.g. `smtp://user:pass@smtp.example.com:587`). */
import { createTransport } from 'nodemailer';
import { abortable } from '../abortable.ts';
import { DeliveryError, type Transport } from '../message.ts';

export function smtpTransport(options: { readonly url: string; readonly timeoutMs: number }): Transport {
  // One connection per message (no pool): low volume, and nothing stale to recover after an outage.
  // The timeouts bound each exchange, so an attempt abandoned by the worker ends soon after.
  const transporter = createTransport({
    url: options.url,
    connectionTimeout: options.timeoutMs,
    greetingTimeout: options.timeoutMs,
    socketTimeout: options.timeoutMs,
  });
  return {
    name: 'smtp',
    async send(message, { id, signal }) {
      try {
        await abortable(
          transporter.sendMail({
            from: message.from,
            to: message.to,
            subject: message.subject,
            text: message.text,
            html: message.html,
            headers: { 'X-Empulse-Outbox-Id': id },
          }),
          signal,
        );
      } catch (err) {
        // nodemailer marks SMTP 5xx replies (other than 503) as permanent: the server refused this
        // message or recipient for good. Connection failures and 4xx replies are worth retrying.
        const permanent = (err as { permanent?: unknown }).permanent === true;
        throw new DeliveryError(describe(err), { permanent, cause: err });
      }
    },
    async check(signal) {
      await abortable(transporter.verify(), signal);
    },
    close() {
      transporter.close();
    },
  };
}

/** The server's reply when there is one (it says why), else the error; never the URL's password. */
function describe(err: unknown): string {
  const e = err as { response?: unknown; message?: unknown };
  const text = typeof e.response === 'string' ? e.response : typeof e.message === 'string' ? e.message : String(err);
  return text.replace(/\/\/[^/@\s]+@/g, '//[redacted]@');
}
