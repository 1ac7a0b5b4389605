/** Delivery through Resend's HTTP API with the official SDK (RESEND_API_KEY). */
import { Resend } from 'resend';
import { abortable } from '../abortable.ts';
import { DeliveryError, type Transport } from '../message.ts';

const DEFAULT_BASE_URL = 'https://api.resend.com';

export function resendTransport(options: { readonly apiKey: string; readonly baseUrl?: string | undefined }): Transport {
  // Passed explicitly: the SDK would otherwise read RESEND_BASE_URL from process.env itself,
  // and plugins take their settings from the validated config only.
  const baseUrl = (options.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, '');
  const resend = new Resend(options.apiKey, { baseUrl });
  return {
    name: 'resend',
    async send(message, { id, signal }) {
      // The SDK never throws on an HTTP error (nor on a network one): it answers `{ data, error }`.
      const { error } = await abortable(
        resend.emails.send(
          { from: message.from, to: message.to, subject: message.subject, text: message.text, html: message.html },
          // Resend keeps idempotency keys for 24 h: a retry after a lost answer is not a second email.
          { idempotencyKey: `empulse-outbox/${id}`, signal },
        ),
        signal,
      );
      if (!error) return;
      const status = error.statusCode;
      const what = status === null ? 'Resend is unreachable' : `Resend answered ${status} ${error.name}`;
      // 400 and 422 reject the request itself (an invalid address or field): sending the same
      // request again cannot succeed. Keys (401/403), quotas (429) and outages (5xx) can recover.
      throw new DeliveryError(`${what}: ${error.message}`, { permanent: status === 400 || status === 422 });
    },
    async check(signal) {
      // Any HTTP answer proves the API is reachable: a sending-only key gets 401 on /domains,
      // which is fine. Only a network failure (or the deadline) fails readiness.
      let res: Response;
      try {
        res = await fetch(`${baseUrl}/domains`, { headers: { Authorization: `Bearer ${options.apiKey}` }, signal });
      } catch (err) {
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        throw new Error(`Resend is unreachable at ${baseUrl}: ${cause?.message ?? cause?.code ?? (err as Error).message}`);
      }
      await res.body?.cancel();
      if (res.status >= 500) return { degraded: `Resend answered ${res.status}` };
    },
    close() {},
  };
}
