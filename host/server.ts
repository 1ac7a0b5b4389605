/**
 * Serves the kernel over HTTP and shuts down in two phases (Fastify's pattern): readiness turns
 * 503 and the listener closes at once, in-flight requests finish (up to the timeout), then the
 * plugins stop in reverse order. A repeated signal does not cut the drain short.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Kernel } from '../core/index.ts';

export interface ServeOptions {
  readonly port: number;
  readonly host: string;
  readonly shutdownTimeoutMs: number;
}

export interface RunningServer {
  readonly server: Server;
  readonly url: string;
  /** Drains and stops; resolves when everything is closed. Safe to call more than once. */
  shutdown(reason: string): Promise<void>;
}

export async function serve(kernel: Kernel, options: ServeOptions): Promise<RunningServer> {
  const server = createServer(kernel.callback());
  // Slowloris guard: a client must send its request headers within 20 s.
  server.headersTimeout = 20_000;
  // No whole-request deadline at the socket level: it would cut a 1 GiB upload on a slow link
  // however steadily it flows. The body is bounded per route instead: every route has a time
  // budget (30 s by default, upload routes their own overall cap) and upload routes an idle
  // timeout, each answering 503 and closing the connection.
  server.requestTimeout = 0;
  server.keepAliveTimeout = 5_000;

  let inFlight = 0;
  let drained: (() => void) | undefined;
  server.on('request', (req, res) => {
    inFlight++;
    res.once('finish', () => {
      if (req.complete === false && /\bclose\b/i.test(String(res.getHeader('connection') ?? ''))) lingerBeforeClosing(req);
    });
    res.once('close', () => {
      inFlight--;
      if (kernel.isDraining()) server.closeIdleConnections();
      if (inFlight === 0) drained?.();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;

  let shuttingDown: Promise<void> | undefined;
  const shutdown = (reason: string): Promise<void> => {
    if (shuttingDown) {
      kernel.logger.info({ reason }, 'shutdown already in progress; letting in-flight requests finish');
      return shuttingDown;
    }
    shuttingDown = (async () => {
      kernel.logger.info({ reason, inFlight }, 'shutting down');
      kernel.beginShutdown();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      if (inFlight > 0) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          new Promise<void>((resolve) => (drained = resolve)),
          new Promise<void>((resolve) => (timer = setTimeout(resolve, options.shutdownTimeoutMs))),
        ]);
        clearTimeout(timer);
        if (inFlight > 0) kernel.logger.warn({ inFlight }, 'shutdown timeout reached; closing remaining connections');
      }
      server.closeAllConnections();
      await closed;
      await kernel.stop();
    })();
    return shuttingDown;
  };

  return { server, url, shutdown };
}

/** How long, and for how many bytes, a closing connection keeps reading a body nobody wants. */
const LINGER_MS = 2_000;
const LINGER_BYTES = 16 * 1024 * 1024;

/**
 * Lingering close (nginx's `lingering_close`). An answer given before the request body fully
 * arrived (413 mid-upload, a refused upload, a spent time budget) says `Connection: close`, and
 * Node closes the socket as soon as the answer is out. But closing a socket while the client is
 * still sending makes the kernel reset the connection, and a reset makes the client's kernel drop
 * whatever it had received and not yet read, the answer included: the client would see
 * "connection reset" instead of its 413. So the answer goes out with a FIN as usual, and the body
 * is read and discarded for a short while (or until it ends) before the socket is closed.
 */
function lingerBeforeClosing(req: IncomingMessage): void {
  const socket = req.socket;
  if (socket.destroyed) return;
  // Node has half-closed the socket and destroys it once that is flushed; we close it ourselves.
  socket.removeListener('finish', socket.destroy);
  let discarded = 0;
  const close = (): void => {
    clearTimeout(timer);
    socket.destroy();
  };
  const timer = setTimeout(close, LINGER_MS);
  socket.once('close', () => clearTimeout(timer));
  req.on('data', (chunk: Uint8Array) => {
    discarded += chunk.byteLength;
    if (discarded > LINGER_BYTES) close();
  });
  req.once('end', close);
  req.once('error', close);
  req.resume();
}
