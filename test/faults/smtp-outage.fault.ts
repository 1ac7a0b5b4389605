/**
 * The SMTP server stopped while mail is queued: registrations still answer 202 (mail goes to the
 * outbox in the request's transaction), delivery is retried with backoff while the server is
 * down, and once it is back every message arrives exactly once.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { configure } from '../../core/index.ts';
import { createTestKernel, type TestKernel } from '../../host/testing.ts';
import { authPlugin } from '../../plugins/auth/index.ts';
import { emailPlugin } from '../../plugins/email/index.ts';
import { captureLogger, type CapturedLogs } from '../support/capture-logger.ts';
import { startMailbox, type Mailbox } from '../support/mailbox.ts';
import { until } from '../support/until.ts';
import { reportFault } from './fault-summary.ts';
import { sleep } from './load.ts';

const PASSWORD = 'correct horse battery staple';

describe('SMTP server stopped while mail is queued', () => {
  let mailbox: Mailbox;
  let logs: CapturedLogs;
  let t: TestKernel;

  before(async () => {
    mailbox = await startMailbox();
    logs = captureLogger('info');
    t = await createTestKernel({
      plugins: [
        authPlugin,
        // Backoff short enough for a test, with a budget (20 attempts, ≤ 1 s apart) well past the outage.
        configure(emailPlugin, { transport: 'smtp', smtpUrl: mailbox.url, publicAppUrl: 'https://app.empulse.test', pollIntervalMs: 50, retryBaseDelayMs: 150, retryMaxDelayMs: 1000, maxAttempts: 20 }),
      ],
      env: { JWT_SECRET: 'smtp-outage-test-secret-0123456789-abcdefghijklmnopqrs' },
      logger: logs.logger,
    });
  });
  after(async () => {
    await t?.close();
    await mailbox?.close();
  });

  it('answers 202 while it is down, retries with backoff, and delivers each message exactly once when it is back', async () => {
    await mailbox.stop();
    const emails = Array.from({ length: 12 }, (_, i) => `queued-${i}@example.test`);
    const answers = await Promise.all(
      emails.map((email) => t.inject({ method: 'POST', url: '/v1/auth/register', payload: { email, password: PASSWORD, displayName: 'Q' } })),
    );
    assert.deepEqual(answers.map((a) => a.statusCode), emails.map(() => 202));
    await sleep(3000);
    assert.equal(mailbox.received.length, 0, 'nothing can arrive while the server is down');
    const retries = logs.lines.filter((l) => l.msg === 'email delivery failed; will retry');
    const retried = new Set(retries.map((l) => l.outboxId));
    assert.equal(retried.size, emails.length, `every message was retried (${retries.length} retries of ${retried.size} messages)`);
    // Backoff: the delays a message was given grow.
    const delays = retries.filter((l) => l.outboxId === retries[0]!.outboxId).map((l) => Number(l.retryInMs));
    assert.ok(delays.length >= 2 && delays.at(-1)! > delays[0]!, `growing delays: ${delays.join(', ')}`);

    await mailbox.start();
    await until('every queued message', () => emails.every((e) => mailbox.all(e).length > 0), 20_000);
    await sleep(1000); // anything sent twice would have arrived by now
    const copies = emails.map((e) => mailbox.all(e).length);
    const pending = await t.kernel.database.em().getConnection().execute("select count(*)::int as n from email_outbox where status <> 'sent'");
    assert.deepEqual(copies, emails.map(() => 1), 'exactly one copy each');
    assert.equal((pending[0] as { n: number }).n, 0, 'every outbox row is sent');
    reportFault({
      scenario: 'SMTP server stopped while mail is queued',
      injected: 'SMTP server closed for 3 s while 12 registrations queued mail, then listening again on its port',
      requests: answers.length,
      outcomes: { '202': answers.filter((a) => a.statusCode === 202).length },
      losses: copies.filter((n) => n !== 1).length,
      notes: `${retries.length} retries before it was back, delays of one message ${delays.join(', ')} ms`,
    });
  });
});
