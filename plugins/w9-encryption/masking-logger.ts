/**
 * Defence in depth for the plugin's own log lines: the kernel already censors fields named like
 * TINs (the plugin's `redact`), and this logger also masks anything TIN-shaped in every string it
 * is given, at any depth (a message, an error's text, a field no one thought to name), so a TIN
 * that slips into a log call leaves only its last four digits.
 */
import type { LogFn, Logger } from '../../core/index.ts';
import { maskTinShapes } from './tin.ts';

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
const MAX_DEPTH = 5;

function mask(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return maskTinShapes(value);
  if (depth >= MAX_DEPTH || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) {
    // Loggers serialise an error's message and stack: hand them a masked copy.
    return { type: value.name, message: maskTinShapes(value.message), stack: value.stack && maskTinShapes(value.stack) };
  }
  if (Array.isArray(value)) return value.map((item) => mask(item, depth + 1));
  if (value instanceof Date) return value;
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, mask(item, depth + 1)]));
}

export function tinMaskingLogger(inner: Logger): Logger {
  const wrap = (level: (typeof LEVELS)[number]): LogFn =>
    ((first: object | string, msg?: string) => {
      if (typeof first === 'string') inner[level](maskTinShapes(first));
      else inner[level](mask(first) as object, msg === undefined ? undefined : maskTinShapes(msg));
    }) as LogFn;
  const logger: Logger = {
    get level() {
      return inner.level;
    },
    set level(value: string) {
      inner.level = value;
    },
    fatal: wrap('fatal'),
    error: wrap('error'),
    warn: wrap('warn'),
    info: wrap('info'),
    debug: wrap('debug'),
    trace: wrap('trace'),
    child: (bindings) => tinMaskingLogger(inner.child(mask(bindings) as Record<string, unknown>)),
  };
  return logger;
}
