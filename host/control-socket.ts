/**
 * The embedded database belongs to one process (see data-dir-lock.ts), so while `empulse start`
 * runs on it, a plugin command (`users set-role`, `audit verify`) cannot open it too. The server
 * therefore listens on a Unix socket in DATA_DIR, readable by its own OS user only, and runs the
 * commands it receives in its own kernel; the CLI forwards to it. One JSON line in (the command's
 * words), JSON lines out (`out`, `err`, then `exit`).
 */
import { chmodSync, existsSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { CommandIo, Logger } from '../core/index.ts';

export const CONTROL_SOCKET = 'empulse.sock';

type Frame = { readonly out: string } | { readonly err: string } | { readonly exit: number };

/** Serves commands on `DATA_DIR/empulse.sock`; resolves to a function that closes it. */
export async function listenControlSocket(
  dataDir: string,
  run: (words: readonly string[], io: CommandIo) => Promise<number>,
  logger: Logger,
): Promise<() => Promise<void>> {
  const path = join(dataDir, CONTROL_SOCKET);
  rmSync(path, { force: true }); // a socket file left by a process that is gone (the pid lock is ours)
  const server = createServer((socket) => void serveOne(socket, run, logger));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  chmodSync(path, 0o600);
  return () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      rmSync(path, { force: true });
    });
}

async function serveOne(socket: Socket, run: (words: readonly string[], io: CommandIo) => Promise<number>, logger: Logger): Promise<void> {
  const send = (frame: Frame) => socket.write(`${JSON.stringify(frame)}\n`);
  socket.on('error', () => undefined); // the CLI went away: nothing to tell it
  const lines = createInterface({ input: socket });
  for await (const line of lines) {
    let words: unknown;
    try {
      words = (JSON.parse(line) as { words?: unknown }).words;
    } catch {
      words = undefined;
    }
    if (!Array.isArray(words) || !words.every((w): w is string => typeof w === 'string')) {
      send({ err: 'malformed command request' });
      send({ exit: 2 });
    } else {
      logger.info({ command: words.slice(0, 2).join(' ') }, 'running a command from the CLI');
      const code = await run(words, { out: (l) => void send({ out: l }), err: (l) => void send({ err: l }) }).catch((err: unknown) => {
        logger.error({ err }, 'command failed');
        send({ err: `empulse: ${err instanceof Error ? err.message : String(err)}` });
        return 1;
      });
      send({ exit: code });
    }
    socket.end();
    return;
  }
}

/**
 * Runs the command in the server that holds DATA_DIR, if one listens there. Resolves to its exit
 * code, or undefined when no server answers (the caller then opens the database itself).
 */
export async function forwardToRunningServer(dataDir: string, words: readonly string[], io: CommandIo): Promise<number | undefined> {
  const path = join(dataDir, CONTROL_SOCKET);
  if (!existsSync(path)) return undefined;
  const socket = createConnection(path);
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
  } catch {
    socket.destroy();
    return undefined; // a stale socket file
  }
  socket.write(`${JSON.stringify({ words })}\n`);
  const lines = createInterface({ input: socket });
  for await (const line of lines) {
    const frame = JSON.parse(line) as Frame;
    if ('out' in frame) io.out(frame.out);
    else if ('err' in frame) io.err(frame.err);
    else {
      socket.end();
      return frame.exit;
    }
  }
  io.err('empulse: the running server closed the command channel without an answer');
  return 1;
}
