/**
 * A throwaway SMTP server for test/docker/smoke.sh. Production refuses to start with the
 * development outbox, so the container under test needs a real transport: SMTP_URL points here.
 * Listens on 127.0.0.1 (a free port), prints `port <n>` as its first stdout line, then one JSON
 * line per accepted message with its recipients and subject only (the body carries single-use
 * tokens, which have no business in a CI log). Stops on SIGTERM or SIGINT.
 *
 * Usage: node test/docker/smtp-sink.ts
 */
import { startMailbox } from '../support/mailbox.ts';

const mailbox = await startMailbox({
  onMessage: ({ rcpt, mail }) => process.stdout.write(`${JSON.stringify({ rcpt, subject: mail.subject ?? '' })}\n`),
});
process.stdout.write(`port ${mailbox.port}\n`);

// Nothing to drain: the container under test is stopped before this server.
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => process.exit(0));
