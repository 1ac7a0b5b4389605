/**
 * JSON-lines logger (pino) with secret redaction built in: fields whose names say they hold a
 * password, token, secret, key, cookie or authorization header are censored in every line and in
 * child bindings, so a careless `log.info({ body })` cannot leak them.
 */
import { pino, type DestinationStream } from 'pino';
import type { Logger, LogLevel } from './logger.ts';
import { redactSecrets } from './redact.ts';

export interface LoggerOptions {
  readonly level?: LogLevel;
  /** Where lines go; pino's default (stdout) when absent. */
  readonly destination?: DestinationStream;
  /** Fields on every line, e.g. `{ service: 'empulse' }`. */
  readonly base?: Record<string, unknown>;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const config = {
    level: options.level ?? 'info',
    base: options.base ?? null,
    timestamp: pino.stdTimeFunctions.isoTime,
    messageKey: 'msg',
    formatters: {
      level: (label: string) => ({ level: label }),
      bindings: (bindings: Record<string, unknown>) => redactSecrets(bindings),
      log: (object: Record<string, unknown>) => redactSecrets(object),
    },
  };
  return options.destination ? pino(config, options.destination) : pino(config);
}
