/**
 * A real SMTP server for tests (smtp-server on 127.0.0.1, a random port): every message it
 * accepts is parsed with mailparser and kept, so tests read what a user's inbox would show.
 */
import type { AddressInfo } from 'node:net';
import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  /** Envelope recipients (RCPT TO), lower-cased. */
  readonly rcpt: readonly string[];
  readonly mail: ParsedMail;
}

export interface Mailbox {
  readonly port: number;
  /** `smtp://127.0.0.1:<port>`, for the email plugin's `smtpUrl`. */
  readonly url: string;
  /** Everything received so far, oldest first. */
  readonly received: readonly ReceivedMail[];
  /**
   * Resolves with the oldest message to `to` whose subject matches that no earlier `waitFor`
   * returned (each message is handed out once), polling briefly until one arrives.
   */
  waitFor(to: string, subject: RegExp, timeoutMs?: number): Promise<ParsedMail>;
  /** Messages received so far for `to` (optionally with a matching subject), handed out or not. */
  all(to: string, subject?: RegExp): ParsedMail[];
  /**
   * Holds every message's final reply until `release()`: `held` resolves when one is waiting,
   * `senderGone` when that message's sender has disconnected. A sender that disconnects meanwhile
   * never had its message accepted, and it is not filed.
   */
  hold(): { readonly held: Promise<void>; readonly senderGone: Promise<void>; release(): void };
  /** Stops listening and drops its connections (the SMTP server is down)… */
  stop(): Promise<void>;
  /** …and listens again on the same port, keeping what it received. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/** The addresses of a parsed To/From header. */
export function addresses(field: AddressObject | AddressObject[] | undefined): string[] {
  const list = field === undefined ? [] : Array.isArray(field) ? field : [field];
  return list.flatMap((a) => a.value.map((v) => (v.address ?? '').toLowerCase()));
}

/** The `token` query parameter of the link `<publicAppUrl><path>?token=…` in the plain-text part. */
export function linkToken(mail: ParsedMail, publicAppUrl: string, path: string): string {
  const base = `${publicAppUrl.replace(/\/+$/, '')}${path}`;
  const match = new RegExp(`${escapeRegExp(base)}\\?token=([A-Za-z0-9_-]+)`).exec(mail.text ?? '');
  if (!match) throw new Error(`no ${base}?token=… link in the text part of "${mail.subject}":\n${mail.text}`);
  return match[1]!;
}

type Entry = { rcpt: string[]; mail: ParsedMail; taken: boolean };

/** While set, a message's final reply (250: accepted) waits for `released`. */
interface Gate {
  held: (() => void) | undefined;
  released: Promise<void> | undefined;
  /** The session whose message is held, and what to call when its client disconnects. */
  heldSession: string | undefined;
  heldSessionClosed: (() => void) | undefined;
}

/** An SMTP server on `port` (0: any) that files what it receives into `received`. */
async function listen(received: Entry[], port: number, gate: Gate, onMessage: MessageObserver | undefined): Promise<SMTPServer> {
  const closed = new Set<string>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    // `stop` ends client connections at once (the default waits 30 s for them).
    closeTimeout: 50,
    onClose(session) {
      closed.add(session.id);
      if (session.id === gate.heldSession) gate.heldSessionClosed?.();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', callback);
      stream.on('end', () => {
        const rcpt = session.envelope.rcptTo.map((r) => r.address.toLowerCase());
        void (async () => {
          if (gate.released) {
            gate.heldSession = session.id;
            gate.held?.();
            await gate.released;
          }
          // A sender gone before the reply never learnt it was accepted: the message is not taken.
          if (closed.has(session.id)) return callback(new Error('the client went away'));
          const mail = await simpleParser(Buffer.concat(chunks));
          received.push({ rcpt, mail, taken: false });
          onMessage?.({ rcpt, mail });
          callback();
        })().catch((err: Error) => callback(err));
      });
    },
  });
  // A client that goes away mid-session (a sender killed while its message was held) is an
  // 'error' event of the server: expected here, and fatal if nobody listens.
  server.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return server;
}

/** Told of each message as it is accepted. */
export type MessageObserver = (message: ReceivedMail) => void;

export async function startMailbox(options: { readonly onMessage?: MessageObserver } = {}): Promise<Mailbox> {
  const received: Entry[] = [];
  const gate: Gate = { held: undefined, released: undefined, heldSession: undefined, heldSessionClosed: undefined };
  let server = await listen(received, 0, gate, options.onMessage);
  const port = (server.server.address() as AddressInfo).port;
  const close = () => new Promise<void>((resolve) => server.close(() => resolve()));

  const matches = (entry: { rcpt: string[]; mail: ParsedMail }, to: string, subject?: RegExp) => {
    const address = to.toLowerCase();
    const forThem = entry.rcpt.includes(address) || addresses(entry.mail.to).includes(address);
    return forThem && (subject === undefined || subject.test(entry.mail.subject ?? ''));
  };

  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    get received() {
      return received.map(({ rcpt, mail }) => ({ rcpt, mail }));
    },
    async waitFor(to, subject, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const entry = received.find((e) => !e.taken && matches(e, to, subject));
        if (entry) {
          entry.taken = true;
          return entry.mail;
        }
        if (Date.now() > deadline) {
          const seen = received.map((e) => `${e.rcpt.join(',')}: ${e.mail.subject ?? ''}`).join('\n  ');
          throw new Error(`no email to ${to} with a subject matching ${subject} within ${timeoutMs} ms; received:\n  ${seen}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    all(to, subject) {
      return received.filter((e) => matches(e, to, subject)).map((e) => e.mail);
    },
    hold: () => {
      let release!: () => void;
      gate.released = new Promise<void>((resolve) => (release = resolve));
      const held = new Promise<void>((resolve) => (gate.held = resolve));
      const senderGone = new Promise<void>((resolve) => (gate.heldSessionClosed = resolve));
      return {
        held,
        senderGone,
        release: () => {
          gate.released = undefined;
          gate.held = undefined;
          gate.heldSession = undefined;
          gate.heldSessionClosed = undefined;
          release();
        },
      };
    },
    stop: close,
    start: async () => {
      server = await listen(received, port, gate, options.onMessage);
    },
    close,
  };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
