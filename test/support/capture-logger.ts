/** A real pino logger whose JSON lines are kept in memory, so tests can read what was logged. */
import { Writable } from 'node:stream';
import { createLogger, type Logger, type LogLevel } from '../../core/index.ts';

export interface CapturedLogs {
  readonly logger: Logger;
  readonly lines: Record<string, unknown>[];
  readonly text: () => string;
}

export function captureLogger(level: LogLevel = 'debug'): CapturedLogs {
  const raw: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      raw.push(chunk.toString('utf8'));
      cb();
    },
  });
  const logger = createLogger({ level, destination });
  return {
    logger,
    get lines() {
      return raw.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    },
    text: () => raw.join(''),
  };
}
