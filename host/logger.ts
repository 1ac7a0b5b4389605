/**
 * The process logger: JSON lines, the server's on stdout written asynchronously (sonic-boom
 * coalesces lines while a write is in flight instead of one blocking syscall per line), a
 * command's on stderr. `flush` before exiting.
 */
import { pino } from 'pino';
import { createLogger, type Logger, type LogLevel } from '../core/index.ts';

export interface HostLogger {
  readonly logger: Logger;
  /** Writes out whatever is buffered; call before the process exits. */
  flush(): void;
}

/**
 * `stdout` for the server (its log is its output); `stderr` for the other commands, whose stdout
 * is their answer to the operator (and may be piped): log lines must not mix into it.
 */
export type LogStream = 'stdout' | 'stderr';

export function createHostLogger(level: LogLevel, stream: LogStream = 'stdout'): HostLogger {
  // A command's few lines are written at once (it exits soon after); the server's asynchronously.
  const destination = stream === 'stdout' ? pino.destination({ dest: 1, sync: false }) : pino.destination({ dest: 2, sync: true });
  const logger = createLogger({ level, base: { service: 'empulse' }, destination });
  return {
    logger,
    flush: () => {
      try {
        destination.flushSync();
      } catch {
        // not opened yet: nothing was written
      }
    },
  };
}
