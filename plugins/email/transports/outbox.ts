/**
 * Development transport: each message becomes an `.eml` file (a real RFC 5322 message, openable
 * in any mail client) under the outbox directory, and its links are logged at info — that is
 * how a developer finds the verification link. Config validation refuses it in production.
 */
import { constants } from 'node:fs';
import { access, mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createTransport } from 'nodemailer';
import { abortable } from '../abortable.ts';
import type { Transport } from '../message.ts';

export function outboxTransport(options: { readonly dir: string }): Transport {
  const dir = resolve(options.dir);
  const composer = createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    name: 'outbox',
    async send(message, { id, signal, log }) {
      const info = await abortable(
        composer.sendMail({ from: message.from, to: message.to, subject: message.subject, text: message.text, html: message.html }),
        signal,
      );
      // The files hold live tokens: readable by the developer's user only.
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const file = join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${id}.eml`);
      await writeFile(file, info.message, { mode: 0o600 });
      log.info({ to: message.to, subject: message.subject, links: message.links, file }, 'email written to the development outbox');
    },
    async check() {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await access(dir, constants.W_OK);
    },
    close() {},
  };
}
