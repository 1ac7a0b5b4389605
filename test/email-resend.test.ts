/**
 * The email plugin through Resend: a small local HTTP server speaks Resend's API (POST /emails
 * with a Bearer key answers 200 `{ id }`, and Resend's error bodies for a missing or wrong key,
 * an invalid request and an outage) and records every request. The official SDK talks to it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { configure } from '../core/index.ts';
import type { EmailService } from '../plugins/email/contract.ts';
import { createTestKernel, type TestKernel } from '../host/testing.ts';
import { emailPlugin } from '../plugins/email/index.ts';
import { captureLogger } from './support/capture-logger.ts';
import { until } from './support/until.ts';
import { emailConsumer } from './support/email-consumer.ts';
import { authEmails } from '../plugins/auth/emails.ts';

interface Recorded {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Record<string, unknown>;
}

/** Enough of Resend's API for sending; errors have Resend's shape `{ statusCode, message, name }`. */
class FakeResend {
  validKey = 're_test_key';
  /** Status codes to answer the next POST /emails with, before answering normally. */
  readonly outages: number[] = [];
  readonly requests: Recorded[] = [];
  #server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      let raw = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (raw += c));
      req.on('end', () => {
        const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
        this.requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });
        const answer = (status: number, json: unknown) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(json));
        };
        const error = (statusCode: number, name: string, message: string) => answer(statusCode, { statusCode, name, message });
        const auth = req.headers.authorization;
        if (!auth) return error(401, 'missing_api_key', 'Missing API key in the authorization header.');
        if (auth !== `Bearer ${this.validKey}`) return error(403, 'invalid_api_key', 'API key is invalid');
        if (req.method === 'GET' && req.url === '/domains') return answer(200, { object: 'list', data: [] });
        if (req.method !== 'POST' || req.url !== '/emails') return error(404, 'not_found', 'Not found');
        const outage = this.outages.shift();
        if (outage) return error(outage, 'internal_server_error', 'An unexpected error occurred.');
        if (String(body.to).endsWith('@invalid.test')) return error(422, 'validation_error', 'Invalid `to` field.');
        answer(200, { id: randomUUID() });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    this.#server = server;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    server?.closeAllConnections();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  sends(to: string): Recorded[] {
    return this.requests.filter((r) => r.path === '/emails' && r.body.to === to);
  }
}


interface OutboxRow {
  id: string;
  status: string;
  attempts: number;
  last_error: string | null;
  payload: Uint8Array | null;
}

describe('email plugin through Resend', () => {
  const resend = new FakeResend();
  const logs = captureLogger('debug');
  let t: TestKernel;
  let email: EmailService;
  const sender = emailConsumer((service) => (email = service));

  const row = async (recipient: string): Promise<OutboxRow | undefined> => {
    const [r] = (await t.kernel.database.orm.em
      .getConnection()
      .execute('select id, status, attempts, last_error, payload from email_outbox where recipient = ?', [recipient])) as OutboxRow[];
    return r;
  };
  const settled = (recipient: string, status: 'sent' | 'failed') =>
    until(`the row marked ${status}`, async () => {
      const r = await row(recipient);
      return r?.status === status ? r : undefined;
    });
  const reset = (to: string, token = randomBytes(24).toString('base64url')) =>
    email.send(authEmails.passwordReset, to, { displayName: 'Ada', link: { path: '/reset-password', query: { token } }, expiresInMinutes: 30 }, { requestId: `req-${to}` });

  before(async () => {
    await resend.start();
    t = await createTestKernel({
      plugins: [
        configure(emailPlugin, {
          transport: 'resend',
          resendApiKey: 're_test_key',
          resendBaseUrl: resend.url,
          from: 'Empulse <no-reply@empulse.test>',
          publicAppUrl: 'https://app.example.test',
          retryBaseDelayMs: 20,
          retryMaxDelayMs: 80,
          pollIntervalMs: 60_000,
          readinessCacheMs: 300,
        }),
        sender,
      ],
      // The outbox key is derived from JWT_SECRET here (no EMAIL_OUTBOX_KEY).
      env: { JWT_SECRET: randomBytes(48).toString('base64url') },
      logger: logs.logger,
    });
  });
  after(async () => {
    await t.close();
    await resend.stop();
  });

  it('posts the message to /emails with the key, an idempotency key and both parts', async () => {
    const token = randomBytes(24).toString('base64url');
    await email.send(authEmails.verifyEmail, 'ada@example.test', { displayName: 'Ada', link: { path: '/verify-email', query: { token } }, expiresInHours: 24 });
    const [req] = await until('the request', () => (resend.sends('ada@example.test').length ? resend.sends('ada@example.test') : undefined));
    assert.ok(req);
    assert.equal(req.method, 'POST');
    assert.equal(req.headers.authorization, 'Bearer re_test_key');
    assert.equal(req.headers['content-type'], 'application/json');
    assert.equal(req.body.from, 'Empulse <no-reply@empulse.test>');
    assert.equal(req.body.to, 'ada@example.test');
    assert.equal(req.body.subject, 'Confirm your email address');
    const link = `https://app.example.test/verify-email?token=${token}`;
    assert.ok(String(req.body.text).includes(link), 'the text part carries the link');
    assert.ok(String(req.body.text).includes('24 hours'), 'and the expiry');
    assert.ok(String(req.body.html).includes(`href="${link}"`), 'the HTML part links it too');

    const sent = await settled('ada@example.test', 'sent');
    assert.equal(req.headers['idempotency-key'], `empulse-outbox/${sent.id}`);
    assert.equal(sent.payload, null);
    assert.ok(!logs.text().includes(token));
    assert.ok(!logs.text().includes('re_test_key'));
  });

  it('retries a 500 answer with the same idempotency key until Resend accepts', async () => {
    resend.outages.push(500, 500);
    const to = 'outage@example.test';
    await reset(to);
    const sent = await settled(to, 'sent');
    const attempts = resend.sends(to);
    assert.equal(attempts.length, 3);
    assert.equal(sent.attempts, 3);
    assert.deepEqual(new Set(attempts.map((r) => r.headers['idempotency-key'])), new Set([`empulse-outbox/${sent.id}`]));
    assert.match(sent.last_error ?? '', /500 internal_server_error/);
    const warnings = logs.lines.filter((l) => l.msg === 'email delivery failed; will retry' && l.requestId === `req-${to}`);
    assert.equal(warnings.length, 2);
  });

  it('logs a rejected key as an error worth retrying, and delivers once the key is accepted', async () => {
    resend.validKey = 're_rotated_key';
    const to = 'bad-key@example.test';
    const warnings = () => logs.lines.filter((l) => l.msg === 'email delivery failed; will retry' && l.requestId === `req-${to}`);
    try {
      await reset(to);
      await until('two rejected attempts', () => warnings().length >= 2);
      const pending = await row(to);
      assert.equal(pending?.status, 'pending');
      assert.match(pending?.last_error ?? '', /403 invalid_api_key: API key is invalid/);
      assert.match(String(warnings()[0]?.error), /invalid_api_key/);
      assert.equal(warnings()[0]?.transport, 'resend');
    } finally {
      resend.validKey = 're_test_key';
    }
    const sent = await settled(to, 'sent');
    assert.equal(sent.attempts, warnings().length + 1, 'every rejected attempt, then the accepted one');
  });

  it('gives up at once when Resend rejects the request itself (422)', async () => {
    const to = 'someone@invalid.test';
    await reset(to);
    const failed = await settled(to, 'failed');
    assert.equal(failed.attempts, 1);
    assert.match(failed.last_error ?? '', /422 validation_error/);
    assert.ok(logs.lines.some((l) => l.msg === 'email delivery failed; giving up' && l.requestId === `req-${to}` && l.permanent === true));
  });

  it('is ready while the API answers (even refusing the key), reusing a success briefly, and not ready when unreachable', async () => {
    const probes = () => resend.requests.filter((r) => r.method === 'GET' && r.path === '/domains').length;
    resend.validKey = 're_sending_only'; // a sending-only key gets 401/403 on /domains
    try {
      assert.equal((await t.kernel.health.readiness()).checks.email?.status, 'ok', 'a refused key still proves reachability');
      assert.equal(probes(), 1);
    } finally {
      resend.validKey = 're_test_key';
    }
    assert.equal((await t.kernel.health.readiness()).checks.email?.status, 'ok');
    assert.equal(probes(), 1, 'the success is reused, not asked again');

    await resend.stop();
    const down = await until('readiness to fail', async () => {
      const report = await t.kernel.health.readiness();
      return report.checks.email?.status === 'fail' ? report : undefined;
    });
    assert.equal(down.status, 'fail');
    assert.match(down.checks.email?.error ?? '', /^Resend is unreachable at http:\/\/127.0.0.1:\d+: /);
  });
});
