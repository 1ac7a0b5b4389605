/**
 * From environment to kernel: host settings, the operator's config, the logger, and the kernel
 * (which validates every plugin's options). Collects every problem before failing.
 */
import { mkdirSync } from 'node:fs';
import { BootError, Kernel, type Env, type Logger } from '../core/index.ts';
import { lockDataDir } from './data-dir-lock.ts';
import { withDevelopmentSecrets } from './dev-secrets.ts';
import { withFileSecrets } from './file-secrets.ts';
import { loadConfig } from './load-config.ts';
import { createHostLogger, type LogStream } from './logger.ts';
import { hostSettings, type HostSettings } from './settings.ts';

export interface Bootstrapped {
  readonly kernel: Kernel;
  readonly settings: HostSettings;
  readonly logger: Logger;
  /** Takes the embedded database's pid lock (no-op on PostgreSQL); returns its release. */
  readonly lockDatabase: () => () => void;
  /** Writes out buffered log lines (before exit). */
  readonly flushLogs: () => void;
}

export interface BootstrapOptions {
  /** Where the host's log lines go when no logger is given: the server's stdout, or stderr for commands. */
  readonly logsTo?: LogStream;
}

export async function bootstrap(cwd: string, hostEnv: Env, logger?: Logger, options: BootstrapOptions = {}): Promise<Bootstrapped> {
  const files = withFileSecrets(hostEnv, cwd);
  const { settings, problems } = hostSettings(files.env, cwd);
  problems.unshift(...files.problems);
  const secrets = withDevelopmentSecrets(files.env, settings.mode, settings.dataDir);
  const env = secrets.env;
  const host = logger ? undefined : createHostLogger(settings.logLevel, options.logsTo);
  const log = logger ?? host!.logger;
  if (secrets.created.length > 0) {
    // Said once, when made: what they protect (development W-9 forms, sessions) dies with the file.
    log.warn(
      { secrets: secrets.created, file: secrets.file },
      `development: generated ${secrets.created.join(', ')} and kept them in ${secrets.file}; production must set its own`,
    );
  }
  const config = await loadConfig(cwd, env);
  let kernel: Kernel | undefined;
  try {
    kernel = new Kernel({
      config: { ...config, http: { ...config.http, ...settings.http } },
      env,
      mode: settings.mode,
      logger: log,
      database: settings.database,
      autoMigrate: settings.autoMigrate,
    });
  } catch (err) {
    if (!(err instanceof BootError)) throw err;
    problems.push(...err.problems);
  }
  if (problems.length > 0 || !kernel) throw new BootError(problems);
  const lockDatabase = () => {
    if (settings.database.driver !== 'pglite') return () => {};
    try {
      mkdirSync(settings.dataDir, { recursive: true });
    } catch (err) {
      // Raw ENOTDIR/EACCES say nothing of which setting to fix.
      const why = (err as NodeJS.ErrnoException).code ?? String(err);
      throw new BootError([{ path: 'DATA_DIR', message: `cannot create ${settings.dataDir} (${why}): point DATA_DIR at a writable directory` }], err);
    }
    return lockDataDir(settings.dataDir);
  };
  return { kernel, settings, logger: log, lockDatabase, flushLogs: () => host?.flush() };
}
