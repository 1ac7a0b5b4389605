/**
 * The process logger: JSON lines on stdout, written asynchronously (sonic-boom coalesces lines
 * while a write is in flight instead of one blocking syscall per line). `flush` before exiting.
 */
import { pino } from 'pino';
import { createLogger, type Logger, type LogLevel } from '../core/index.ts';

export interface HostLogger {
  readonly logger: Logger;
  /** Writes out whatever is buffered; call before the process exits. */
  flush(): void;
}

export function createHostLogger(level: LogLevel): HostLogger {
  const destination = pino.destination({ dest: 1, sync: false });
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
