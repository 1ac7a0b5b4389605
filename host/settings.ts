/**
 * Turns environment variables into host settings (listen address, database, logging, shutdown)
 * and reports every unsafe or malformed value at once. In production, unsafe defaults are
 * errors that name the variable to set.
 */
import { resolve } from 'node:path';
import type { BootProblem, DatabaseConfig, Env, HttpSettings, LogLevel, RuntimeMode } from '../core/index.ts';

export interface HostSettings {
  readonly mode: RuntimeMode;
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  readonly database: DatabaseConfig;
  readonly logLevel: LogLevel;
  readonly shutdownTimeoutMs: number;
  readonly autoMigrate: boolean;
  /** HTTP settings from the environment; they override the config file's. */
  readonly http: HttpSettings;
}

const LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function hostSettings(env: Env, cwd: string): { settings: HostSettings; problems: BootProblem[] } {
  const problems: BootProblem[] = [];
  const mode: RuntimeMode = env.NODE_ENV === 'production' ? 'production' : env.NODE_ENV === 'test' ? 'test' : 'development';
  const dataDir = resolve(cwd, env.DATA_DIR || '.empulse');

  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push({ path: name, message: `must be a whole number from ${min} to ${max}, got "${raw}"` });
      return fallback;
    }
    return n;
  };
  const bool = (name: string, fallback: boolean): boolean => {
    const raw = env[name]?.toLowerCase();
    if (raw === undefined || raw === '') return fallback;
    if (['true', '1', 'yes'].includes(raw)) return true;
    if (['false', '0', 'no'].includes(raw)) return false;
    problems.push({ path: name, message: `must be true or false, got "${env[name]}"` });
    return fallback;
  };
  const list = (name: string): string[] | undefined =>
    env[name] === undefined ? undefined : env[name]!.split(',').map((s) => s.trim()).filter(Boolean);

  let database: DatabaseConfig;
  if (env.DATABASE_URL) {
    if (!/^postgres(ql)?:\/\//.test(env.DATABASE_URL)) {
      problems.push({ path: 'DATABASE_URL', message: 'must be a postgres:// or postgresql:// URL' });
    }
    // At least 2: a migration run holds one connection for its lock while the migrator uses another.
    database = {
      driver: 'postgresql',
      url: env.DATABASE_URL,
      poolMax: int('DATABASE_POOL_MAX', 10, 2, 1000),
      preparedStatements: bool('DATABASE_PREPARED_STATEMENTS', true),
      acquireTimeoutMs: int('DATABASE_POOL_TIMEOUT_MS', 5000, 100, 600_000),
    };
  } else {
    database = { driver: 'pglite', dataDir: resolve(dataDir, 'db') };
    if (mode === 'production' && !bool('EMPULSE_ALLOW_EMBEDDED_DB', false)) {
      problems.push({
        path: 'DATABASE_URL',
        message: 'production needs a PostgreSQL database: set DATABASE_URL (or EMPULSE_ALLOW_EMBEDDED_DB=true to accept the embedded one)',
      });
    }
  }

  const logLevel = (env.LOG_LEVEL || 'info') as LogLevel;
  if (!LEVELS.includes(logLevel)) problems.push({ path: 'LOG_LEVEL', message: `must be one of ${LEVELS.join(', ')}` });

  const allowedOrigins = list('ALLOWED_ORIGINS');
  for (const origin of allowedOrigins ?? []) {
    if (!/^https?:\/\/[^/\s]+$/.test(origin)) {
      problems.push({ path: 'ALLOWED_ORIGINS', message: `"${origin}" is not an origin like https://app.example.com` });
    }
  }
  const trustedProxies = list('TRUSTED_PROXIES');

  return {
    settings: {
      mode,
      port: int('PORT', 3000, 0, 65535),
      host: env.HOST || '127.0.0.1',
      dataDir,
      database,
      logLevel: LEVELS.includes(logLevel) ? logLevel : 'info',
      shutdownTimeoutMs: int('SHUTDOWN_TIMEOUT_MS', 10_000, 0, 600_000),
      autoMigrate: bool('EMPULSE_AUTO_MIGRATE', true),
      http: {
        ...(allowedOrigins && { allowedOrigins }),
        ...(trustedProxies && { trustedProxies }),
      },
    },
    problems,
  };
}
