/**
 * The email plugin over SMTP, end to end: a real SMTP server (smtp-server) on a random local
 * port, the plugin configured with its URL, a tiny consumer plugin calling `send()`, real
 * PostgreSQL for the outbox. Asserts what the server received (parsed with mailparser), what the
 * outbox rows hold, retries, readiness, rollbacks and what survives a restart.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { SMTPServer } from 'smtp-server';
import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import { configure } from '../core/index.ts';
import type { EmailService, SendOptions } from '../plugins/email/contract.ts';
import { createTestKernel, type TestKernel } from '../host/testing.ts';
import { emailPlugin } from '../plugins/email/index.ts';
import { captureLogger, type CapturedLogs } from './support/capture-logger.ts';
import { until } from './support/until.ts';
import { emailConsumer, sendByName } from './support/email-consumer.ts';

type Behaviour = 'accept' | 'defer' | 'reject' | 'hang';

/** An SMTP server whose answer to DATA the test chooses; accepted messages are parsed and kept. */
class FakeSmtp {
  behaviour: Behaviour = 'accept';
  port = 0;
  readonly received: ParsedMail[] = [];
  readonly logins: string[] = [];
  /** DATA commands answered so far, whatever the answer. */
  dataCommands = 0;
  #server: SMTPServer | undefined;
  readonly #hung: ((err?: Error | null) => void)[] = [];

  async start(): Promise<void> {
    const server = new SMTPServer({
      authOptional: true,
      allowInsecureAuth: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onAuth: (auth, _session, cb) => {
        this.logins.push(`${auth.username}:${auth.password}`);
        cb(null, { user: auth.username });
      },
      onData: (stream, _session, cb) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          this.dataCommands += 1;
          const answer = this.behaviour;
          if (answer === 'hang') return void this.#hung.push(cb);
          if (answer === 'defer') return cb(Object.assign(new Error('Mailbox busy, try again later'), { responseCode: 451 }));
          if (answer === 'reject') return cb(Object.assign(new Error('No such user here'), { responseCode: 550 }));
          simpleParser(Buffer.concat(chunks)).then((mail) => {
            this.received.push(mail);
            cb();
          }, cb);
        });
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.server.address() as AddressInfo).port;
    this.#server = server;
  }

  async stop(): Promise<void> {
    for (const cb of this.#hung.splice(0)) cb(Object.assign(new Error('Shutting down'), { responseCode: 421 }));
    const server = this.#server;
    this.#server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  to(address: string): ParsedMail | undefined {
    return this.received.find((m) => (m.to as AddressObject | undefined)?.value[0]?.address === address);
  }
}


interface OutboxRow {
  id: string;
  status: string;
  attempts: number;
  next_attempt_at: string | Date;
  last_error: string | null;
  payload: Uint8Array | null;
  request_id: string | null;
  sent_at: string | Date | null;
  template: string;
  row_text: string;
}

const token = () => randomBytes(24).toString('base64url');
const APP = 'https://app.example.test';

describe('email plugin over SMTP', () => {
  const smtp = new FakeSmtp();
  const logs = captureLogger('debug');
  let t: TestKernel;
  let email: EmailService;
  // A consumer plugin, as auth is: it only knows the contract.
  const sender = emailConsumer((service) => (email = service));
  const outboxKey = randomBytes(32).toString('base64url');
  const send = (template: string, to: string, data: unknown, options?: SendOptions) => sendByName(email, template, to, data, options);

  const plugins = () => [
    configure(emailPlugin, {
      transport: 'smtp',
      smtpUrl: `smtp://mailer:s3cret-pass@127.0.0.1:${smtp.port}`,
      from: 'Empulse <no-reply@empulse.test>',
      publicAppUrl: APP,
      outboxKey,
      retryBaseDelayMs: 20,
      retryMaxDelayMs: 80,
      // Long on purpose: every delivery here must come from the nudge after commit or the retry timer.
      pollIntervalMs: 60_000,
      sendTimeoutMs: 3_000,
      stopGraceMs: 200,
      readinessCacheMs: 0,
    }),
    sender,
  ];

  const rows = async (recipient: string): Promise<OutboxRow[]> =>
    (await t.kernel.database.orm.em
      .getConnection()
      .execute(`select e.*, e::text as row_text from email_outbox e where recipient = ? order by created_at`, [recipient])) as OutboxRow[];
  const row = async (recipient: string): Promise<OutboxRow> => {
    const [r] = await rows(recipient);
    assert.ok(r, `an outbox row for ${recipient}`);
    return r;
  };

  before(async () => {
    await smtp.start();
    t = await createTestKernel({ plugins: plugins(), logger: logs.logger });
  });
  after(async () => {
    await t.close();
    await smtp.stop();
  });

  const cases = [
    {
      template: 'auth.verify-email',
      data: (tok: string) => ({ displayName: 'Nina <b>&', link: { path: '/verify-email', query: { token: tok } }, expiresInHours: 24 }),
      subject: 'Confirm your email address',
      path: '/verify-email',
      mentions: ['24 hours', 'Hi Nina <b>&,'],
    },
    {
      template: 'auth.account-exists',
      data: (tok: string) => ({ displayName: 'Nina', loginLink: { path: '/login' }, resetLink: { path: '/reset-password', query: { token: tok } } }),
      subject: 'You already have an Empulse account',
      path: '/reset-password',
      mentions: [`${APP}/login`],
    },
    {
      template: 'auth.password-reset',
      data: (tok: string) => ({ displayName: 'Nina', link: { path: '/reset-password', query: { token: tok } }, expiresInMinutes: 30 }),
      subject: 'Reset your Empulse password',
      path: '/reset-password',
      mentions: ['30 minutes'],
    },
    {
      template: 'auth.password-changed',
      data: (tok: string) => ({ displayName: 'Nina', resetLink: { path: '/forgot-password', query: { token: tok } } }),
      subject: 'Your Empulse password was changed',
      path: '/forgot-password',
      mentions: ['If you did not'],
    },
    {
      template: 'lockout.account-locked',
      data: (tok: string) => ({ lockedUntil: new Date('2030-01-02T03:04:00Z'), resetLink: { path: '/forgot-password', query: { token: tok } } }),
      subject: 'Sign-in to your Empulse account is paused',
      path: '/forgot-password',
      mentions: ['2 January 2030 at 03:04 UTC'],
    },
  ] as const;

  for (const c of cases) {
    it(`delivers "${c.template}" with a text part and a link from PUBLIC_APP_URL, and never stores its token in plaintext`, async () => {
      const tok = token();
      const to = `${c.template}@example.test`;
      const link = `${APP}${c.path}?token=${tok}`;
      // Queue it in a transaction and look at the row before the worker can see (and send) it.
      await t.kernel.database.transactional(async (em) => {
        await send(c.template, to, c.data(tok), { em, requestId: `req-${c.template}` });
        const [queued] = (await em.execute(`select e::text as row_text, status, payload from email_outbox e where recipient = ?`, [to])) as OutboxRow[];
        assert.equal(queued?.status, 'pending');
        assert.ok(queued.payload && queued.payload.length > 40, 'a sealed payload');
        assert.ok(!queued.row_text.includes(tok), 'the token is not in the row');
        assert.ok(!queued.row_text.includes(Buffer.from(tok).toString('hex')), 'not even hex-encoded');
        assert.ok(!queued.row_text.includes('Empulse'), 'nothing of the rendered message is readable');
      });

      const mail = await until(`the "${c.template}" message`, () => smtp.to(to));
      assert.deepEqual(mail.from?.value, [{ address: 'no-reply@empulse.test', name: 'Empulse' }]);
      assert.equal((mail.to as AddressObject).value[0]?.address, to);
      assert.equal(mail.subject, c.subject);
      assert.ok(mail.text, 'a plain-text part');
      assert.ok(mail.text.includes(link), `the text part has ${link}`);
      for (const m of c.mentions) assert.ok(mail.text.includes(m), `the text mentions ${m}`);
      assert.ok(typeof mail.html === 'string' && mail.html.includes(`href="${link}"`), 'the HTML part links the same URL');
      assert.ok(!mail.html.includes('<b>&'), 'user data is escaped in HTML');
      if (c.template === 'auth.verify-email') assert.ok(mail.html.includes('Nina &#60;b&#62;&#38;'));

      const sent = await until('the row to be marked sent', async () => {
        const r = await row(to);
        return r.status === 'sent' ? r : undefined;
      });
      assert.equal(sent.payload, null, 'the sealed message is wiped after sending');
      assert.ok(sent.sent_at !== null && new Date(sent.sent_at).getTime() > Date.now() - 60_000, 'sent_at is set');
      assert.equal(sent.attempts, 1);
      assert.equal(sent.request_id, `req-${c.template}`);
      assert.ok(!sent.row_text.includes(tok));
      assert.ok(!logs.text().includes(tok), 'no token in the logs');
      const line = await until('the delivery log line', () => logs.lines.find((l) => l.msg === 'email sent' && l.outboxId === sent.id));
      assert.equal(line.requestId, `req-${c.template}`);
      assert.equal(line.template, c.template);
    });
  }

  it('logs in with the credentials of SMTP_URL and keeps the password out of logs', () => {
    assert.ok(smtp.logins.includes('mailer:s3cret-pass'));
    assert.ok(!logs.text().includes('s3cret-pass'));
  });

  it('queues nothing when the caller\'s transaction rolls back', async () => {
    const to = 'rolled-back@example.test';
    await assert.rejects(
      t.kernel.database.transactional(async (em) => {
        await send('auth.password-changed', to, { displayName: 'Nina', resetLink: { path: '/forgot-password' } }, { em });
        assert.equal((await em.execute('select 1 from email_outbox where recipient = ?', [to])).length, 1, 'queued inside the transaction');
        throw new Error('the caller failed');
      }),
      /the caller failed/,
    );
    assert.deepEqual(await rows(to), []);
    // And the worker has nothing to send for it: a later message overtakes it with no trace of the first.
    await send('auth.password-changed', 'after-rollback@example.test', { displayName: 'Nina', resetLink: { path: '/forgot-password' } });
    await until('the later message', () => smtp.to('after-rollback@example.test'));
    assert.equal(smtp.to(to), undefined);
  });

  it('refuses a recipient that is not an email address, queuing nothing', async () => {
    await assert.rejects(send('auth.password-changed', 'not an address', { displayName: 'x', resetLink: { path: '/' } }), TypeError);
    await assert.rejects(send('auth.password-changed', 'a@example.test\r\nBcc: b@example.test', { displayName: 'x', resetLink: { path: '/' } }), TypeError);
    assert.deepEqual(await rows('not an address'), []);
  });

  it('retries with growing delays while the server defers, then delivers', async () => {
    smtp.behaviour = 'defer';
    const to = 'deferred@example.test';
    await send('auth.password-reset', to, { displayName: 'Nina', link: { path: '/reset-password', query: { token: token() } }, expiresInMinutes: 30 }, { requestId: 'req-retry' });
    const seen: OutboxRow[] = [];
    await until('three failed attempts', async () => {
      const r = await row(to);
      if (r.attempts > (seen.at(-1)?.attempts ?? 0) && r.last_error) seen.push(r);
      return r.attempts >= 3 && seen.length >= 2;
    });
    assert.ok(seen.every((r) => r.status === 'pending'));
    assert.match(seen.at(-1)!.last_error!, /451/);
    for (let i = 1; i < seen.length; i++) {
      assert.ok(seen[i]!.attempts > seen[i - 1]!.attempts, 'attempts grow');
      assert.ok(new Date(seen[i]!.next_attempt_at) > new Date(seen[i - 1]!.next_attempt_at), 'the next attempt moves later');
    }
    const retryLogs = logs.lines.filter((l) => l.msg === 'email delivery failed; will retry' && l.requestId === 'req-retry');
    assert.ok(retryLogs.length >= 2, 'each failed attempt is logged with the request id');
    assert.match(String(retryLogs[0]!.error), /451/);

    smtp.behaviour = 'accept';
    await until('delivery once the server accepts', () => smtp.to(to));
    const done = await until('the row marked sent', async () => ((await row(to)).status === 'sent' ? row(to) : undefined));
    const deferred = logs.lines.filter((l) => l.msg === 'email delivery failed; will retry' && l.requestId === 'req-retry').length;
    assert.equal(done.attempts, deferred + 1, 'every deferred attempt, then the one that went through');
    assert.equal(done.payload, null);
  });

  it('marks a message failed at once when the server refuses it for good (5xx)', async () => {
    smtp.behaviour = 'reject';
    const to = 'unknown-user@example.test';
    try {
      await send('auth.password-changed', to, { displayName: 'Nina', resetLink: { path: '/forgot-password' } });
      const failed = await until('the row marked failed', async () => ((await row(to)).status === 'failed' ? row(to) : undefined));
      assert.equal(failed.attempts, 1);
      assert.match(failed.last_error ?? '', /550/);
    } finally {
      smtp.behaviour = 'accept';
    }
  });

  it('gives up after maxAttempts', async () => {
    smtp.behaviour = 'defer';
    const to = 'always-busy@example.test';
    try {
      await send('auth.password-changed', to, { displayName: 'Nina', resetLink: { path: '/forgot-password' } }, { requestId: 'req-give-up' });
      // maxAttempts defaults to 8; with 20–80 ms between attempts this takes well under a second.
      const failed = await until('the row marked failed', async () => ((await row(to)).status === 'failed' ? row(to) : undefined));
      assert.equal(failed.attempts, 8);
      assert.match(failed.last_error ?? '', /451/);
      assert.ok(logs.lines.some((l) => l.msg === 'email delivery failed; giving up' && l.requestId === 'req-give-up' && l.level === 'error'));
    } finally {
      smtp.behaviour = 'accept';
    }
  });

  it('is ready while the SMTP server answers and not ready when it is down', async () => {
    const up = await t.kernel.health.readiness();
    assert.equal(up.checks.email?.status, 'ok');
    await smtp.stop();
    try {
      const down = await t.kernel.health.readiness();
      assert.equal(down.status, 'fail');
      assert.equal(down.checks.email?.status, 'fail');
      assert.match(down.checks.email?.error ?? '', /ECONNREFUSED|connect/i);
      assert.ok(!(down.checks.email?.error ?? '').includes('s3cret-pass'));
    } finally {
      await smtp.start(); // same port
    }
    assert.equal((await t.kernel.health.readiness()).checks.email?.status, 'ok');
  });

  it('delivers each message exactly once when two instances work the same outbox', async () => {
    const firstService = email;
    const otherLogs = captureLogger('debug');
    const other = await createTestKernel({ plugins: plugins(), database: t.database, logger: otherLogs.logger });
    const otherService = email;
    email = firstService;
    try {
      const recipients = Array.from({ length: 30 }, (_, i) => `crowd-${i}@example.test`);
      // Alternate instances, so both workers are nudged and compete for the same rows.
      await Promise.all(
        recipients.map((to, i) =>
          sendByName(i % 2 ? otherService : firstService, 'auth.password-changed', to, { displayName: 'Nina', resetLink: { path: '/forgot-password' } }),
        ),
      );
      await until('all 30 messages', () => recipients.every((to) => smtp.to(to)));
      for (const to of recipients) {
        assert.equal(smtp.received.filter((m) => (m.to as AddressObject).value[0]?.address === to).length, 1, `${to} got one message`);
      }
      const sentBy = (l: CapturedLogs) => l.lines.filter((line) => line.msg === 'email sent' && line.template === 'auth.password-changed').length;
      const byOther = sentBy(otherLogs);
      assert.ok(byOther > 0 && byOther < 30, `both instances delivered some (the second one: ${byOther})`);
    } finally {
      await other.close();
    }
  });

  it('stops within its timeout while an attempt hangs, leaving the row due, and a restart delivers it', async () => {
    assert.equal(t.database.driver, 'postgresql', 'a restart needs a database that outlives the kernel');
    smtp.behaviour = 'hang';
    const to = 'restart@example.test';
    const before = smtp.dataCommands;
    await send('auth.verify-email', to, { displayName: 'Nina', link: { path: '/verify-email', query: { token: token() } }, expiresInHours: 24 });
    await until('the server to hold the message', () => smtp.dataCommands > before);

    const started = performance.now();
    await t.kernel.stop();
    const stopMs = performance.now() - started;
    assert.ok(stopMs < 2_000, `stopped in ${Math.round(stopMs)} ms (grace 200 ms)`);
    assert.ok(!logs.lines.some((l) => l.msg === 'plugin stop failed'));

    // The kernel closed its database: read the row as an operator would.
    const url = t.database.driver === 'postgresql' ? t.database.url : '';
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows: [left] } = await client.query(
        'select status, attempts, last_error, payload is not null as sealed, next_attempt_at <= now() as due from email_outbox where recipient = $1',
        [to],
      );
      assert.deepEqual(left, { status: 'pending', attempts: 1, last_error: 'interrupted by shutdown', sealed: true, due: true });
    } finally {
      await client.end();
    }

    smtp.behaviour = 'accept';
    await smtp.stop(); // ends the abandoned exchange
    await smtp.start();
    const restarted = await createTestKernel({ plugins: plugins(), database: t.database, logger: logs.logger });
    try {
      await until('delivery after the restart', () => smtp.to(to));
      const conn = restarted.kernel.database.orm.em.getConnection();
      const final = await until('the row marked sent', async () => {
        const [r] = (await conn.execute('select status, attempts, payload from email_outbox where recipient = ?', [to])) as OutboxRow[];
        return r?.status === 'sent' ? r : undefined;
      });
      assert.equal(final.attempts, 2, 'the interrupted attempt and the one after the restart');
      assert.equal(final.payload, null);
    } finally {
      await restarted.close();
    }
  });
});
