/**
 * A throwaway SMTP server for test/docker/smoke.sh. Production refuses to start with the
 * development outbox, so the container under test needs a real transport: SMTP_URL points here.
 * Listens on 127.0.0.1 (a free port), prints `port <n>` as its first stdout line, then one JSON
 * line per accepted message with its recipients and subject only (the body carries single-use
 * tokens, which have no business in a CI log). Stops on SIGTERM or SIGINT.
 *
 * Usage: node test/docker/smtp-sink.ts
 */
import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  logger: false,
  onData(stream, session, callback) {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', callback);
    stream.on('end', () => {
      const rcpt = session.envelope.rcptTo.map((r) => r.address.toLowerCase());
      simpleParser(Buffer.concat(chunks)).then(
        (mail) => {
          process.stdout.write(`${JSON.stringify({ rcpt, subject: mail.subject ?? '' })}\n`);
          callback();
        },
        (err: Error) => callback(err),
      );
    });
  },
});

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`port ${(server.server.address() as AddressInfo).port}\n`);
});

// Nothing to drain: the container under test is stopped before this server.
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => process.exit(0));
