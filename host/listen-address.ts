/**
 * The listen address, checked before the boot: a port in use (a second `npm start`, another
 * service) should fail in a second naming PORT and HOST, not after migrations and every plugin's
 * start with a bare `listen EADDRINUSE`.
 */
import { createServer } from 'node:net';
import { BootError } from '../core/index.ts';

/** A boot error for a failed listen, naming the variables to change; other errors as they are. */
export function listenError(err: unknown, host: string, port: number): unknown {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  const where = `${host}:${port}`;
  if (code === 'EADDRINUSE') return new BootError([{ path: 'PORT', message: `${where} is already in use (another server on it?): stop it, or set PORT (or HOST) to a free address` }], err);
  if (code === 'EACCES') return new BootError([{ path: 'PORT', message: `${where} needs privileges this process lacks (ports below 1024): set PORT to 1024 or above` }], err);
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new BootError([{ path: 'HOST', message: `cannot listen on ${where}: ${host} is not an address of this machine` }], err);
  }
  return err;
}

/** Resolves when `host:port` can be listened on now (port 0: always); throws listenError's BootError otherwise. */
export async function checkListenAddress(host: string, port: number): Promise<void> {
  if (port === 0) return;
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', (err) => reject(listenError(err, host, port)));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}
