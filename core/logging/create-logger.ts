/**
 * JSON-lines logger (pino) with secret redaction built in: fields whose names say they hold a
 * password, token, secret, key, cookie or authorization header are censored at any of the first
 * levels of nesting, so a careless `log.info({ body })` cannot leak them.
 */
import { pino, type DestinationStream } from 'pino';
import type { Logger, LogLevel } from './logger.ts';

const SECRET_FIELDS = [
  'password', 'newPassword', 'currentPassword', 'token', 'accessToken', 'refreshToken', 'idToken',
  'secret', 'clientSecret', 'apiKey', 'privateKey', 'authorization', 'Authorization', 'cookie',
  'Cookie', 'set-cookie', 'x-csrf-token', 'csrfToken', 'tin', 'ssn', 'ein',
];

export const REDACT_PATHS: readonly string[] = SECRET_FIELDS.flatMap((f) => {
  const key = /^[A-Za-z_$][\w$]*$/.test(f) ? f : `["${f}"]`;
  const join = (prefix: string) => (key.startsWith('[') ? `${prefix}${key}` : `${prefix}.${key}`);
  return [key, join('*'), join('*.*'), join('*.*.*')];
});

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
    formatters: { level: (label: string) => ({ level: label }) },
    redact: { paths: [...REDACT_PATHS], censor: '[redacted]' },
  };
  return options.destination ? pino(config, options.destination) : pino(config);
}
