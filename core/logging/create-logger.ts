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

/**
 * The redaction list of each logger this module made (children share their root's), so a kernel
 * can add its plugins' field names to the logger it was given, and two kernels with two loggers
 * stay apart.
 */
const extraKeys = new WeakMap<object, Set<string>>();

/** Adds field names to censor in every line of `logger` and its children; false when the logger is not ours. */
export function extendRedaction(logger: Logger, keys: Iterable<string>): boolean {
  const set = extraKeys.get(logger);
  if (!set) return false;
  for (const key of keys) set.add(key.toLowerCase());
  return true;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const extra = new Set<string>();
  const config = {
    level: options.level ?? 'info',
    base: options.base ?? null,
    timestamp: pino.stdTimeFunctions.isoTime,
    messageKey: 'msg',
    formatters: {
      level: (label: string) => ({ level: label }),
      bindings: (bindings: Record<string, unknown>) => redactSecrets(bindings, extra),
      log: (object: Record<string, unknown>) => redactSecrets(object, extra),
    },
  };
  const logger: Logger = options.destination ? pino(config, options.destination) : pino(config);
  extraKeys.set(logger, extra);
  return logger;
}
