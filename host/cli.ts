/**
 * The `empulse` command: start, migrate up|down|status, plugins, check, and the commands the
 * enabled plugins add (`users set-role`, `audit verify`, …). Shared by the Node and Deno entry
 * points, which only differ in how they read the environment and exit.
 */
import { BootError, formatProblem, KERNEL_VERSION, type CommandIo, type Env, type Kernel } from '../core/index.ts';
import { isAbsolute, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { dumpEmbedded, readBackupFile, restoreEmbedded, writeBackupFile } from './backup.ts';
import { bootstrap } from './bootstrap.ts';
import { checkListenAddress, listenError } from './listen-address.ts';
import { forwardToRunningServer, listenControlSocket } from './control-socket.ts';
import { secretsEnvLines, writeSecretFiles } from './secret-values.ts';
import { serve } from './server.ts';

export interface CliIo {
  readonly cwd: string;
  readonly env: Env;
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** Registers a handler for SIGTERM and SIGINT. */
  readonly onSignal: (handler: (signal: string) => void) => void;
  /** Creates the embedded database's cluster before the server opens it, where the host can do it out of process. */
  readonly createEmbeddedCluster?: (dbDir: string) => void;
}

/** Commands answer on stdout; their log lines go to stderr. */
const COMMAND_LOGS = { logsTo: 'stderr' } as const;

const USAGE = `usage: empulse <command>

  start                      serve the API (applies pending migrations unless EMPULSE_AUTO_MIGRATE=false)
  migrate up                 apply pending migrations of the enabled plugins
  migrate down [steps] [--yes]  revert the last applied plugin migration(s) (default 1; production needs --yes)
  migrate status             list migrations and whether each is applied
  plugins [--json]           enabled plugins, their dependencies, routes and tables
  check                      validate the config and reach every dependency
  backup <file>              copy the embedded database to <file> (works while the server runs)
  restore <file>             replace the embedded database with a backup (server stopped; the old one is kept aside)
  secrets                    print new secrets as .env lines (JWT_SECRET, W9_*, METRICS_TOKEN, …)
  secrets --dir <dir>        write them as one file each (mode 0600) for compose.yaml's secrets; never overwrites
  help                       this list, with the commands of the enabled plugins
`;

/**
 * Runs a command; resolves to the process exit code (start resolves when the server stopped).
 * No command prints the usage: starting a server is never what a bare `npx empulse` should do.
 */
export async function runCli(args: readonly string[], io: CliIo): Promise<number> {
  const [command = 'help', sub, arg] = args;
  try {
    switch (command) {
      case 'start':
        return await start(io);
      case 'migrate':
        return await migrate(sub ?? 'status', args.slice(2), io);
      case 'plugins':
        return await plugins(args.slice(1), io);
      case 'check':
        return await check(io);
      case 'backup':
      case 'restore':
        if (args.length !== 2 || !sub || sub.startsWith('-')) {
          io.err(`usage: empulse ${command} <file> (the embedded database; PostgreSQL: pg_dump, see the README)`);
          return 2;
        }
        return await (command === 'backup' ? backup : restore)(resolve(io.cwd, sub), io);
      case 'secrets':
        // Fresh production secrets; needs no config. Bare: .env lines on stdout, touching nothing.
        // --dir: one file per secret, named as compose.yaml's `secrets:` expect (never overwrites).
        if (args.length === 1) {
          for (const line of secretsEnvLines()) io.out(line);
          return 0;
        }
        if (args.length !== 3 || sub !== '--dir' || !arg) {
          io.err('usage: empulse secrets [--dir <dir>] (prints new secrets as .env lines, e.g. npx empulse secrets >> .env; --dir writes one file per secret for compose.yaml)');
          return 2;
        }
        for (const line of writeSecretFiles(io.cwd, arg)) io.out(line);
        return 0;
      case 'help':
      case '--help':
      case '-h':
        io.out(await usage(io));
        return 0;
      default:
        return await pluginCommand(args, io);
    }
  } catch (err) {
    reportFailure(err, io);
    return 1;
  }
}

function reportFailure(err: unknown, io: CliIo): void {
  if (err instanceof BootError) {
    io.err(`empulse: cannot start, ${err.problems.length} problem(s):`);
    for (const p of err.problems) io.err(`  - ${formatProblem(p)}`);
  } else {
    io.err(`empulse: ${err instanceof Error ? err.message : String(err)}`);
  }
}

async function start(io: CliIo): Promise<number> {
  const { kernel, settings, lockDatabase, flushLogs } = await bootstrap(io.cwd, io.env, undefined, { logsTo: 'stdout' });
  await checkListenAddress(settings.host, settings.port);
  const unlock = lockDatabase();
  try {
    if (settings.database.driver === 'pglite' && settings.database.dataDir) io.createEmbeddedCluster?.(settings.database.dataDir);
    await kernel.boot();
  } catch (err) {
    unlock();
    throw err;
  }
  let running: Awaited<ReturnType<typeof serve>>;
  try {
    running = await serve(kernel, settings);
  } catch (err) {
    // Taken between the check and now: stop what booted, say which address.
    await kernel.stop().catch(() => undefined);
    unlock();
    throw listenError(err, settings.host, settings.port);
  }
  kernel.logger.info({ url: running.url, database: settings.database.driver, mode: settings.mode }, 'listening');
  // Plugin commands reach the embedded database through this server while it runs.
  const closeControl =
    settings.database.driver === 'pglite'
      ? await listenControlSocket(settings.dataDir, inServer(kernel), kernel.logger).catch((err: unknown) => {
          kernel.logger.warn({ err }, 'no command channel: plugin commands need the server stopped');
          return async () => {};
        })
      : async () => {};
  return new Promise<number>((resolve) => {
    io.onSignal((signal) => {
      void closeControl();
      running
        .shutdown(signal)
        .then(
          () => resolve(0),
          (err: unknown) => {
            kernel.logger.error({ err }, 'shutdown failed');
            resolve(1);
          },
        )
        .finally(() => {
          unlock();
          flushLogs();
        });
    });
  });
}

async function migrate(sub: string, rest: readonly string[], io: CliIo): Promise<number> {
  const confirmed = rest.includes('--yes');
  const positional = rest.filter((a) => a !== '--yes');
  const arg = positional[0];
  if (sub === 'down' && (positional.length > 1 || (arg !== undefined && !/^[1-9]\d*$/.test(arg)))) {
    io.err('usage: empulse migrate down [steps] [--yes] (steps: a positive number, default 1)');
    return 2;
  }
  const { kernel, settings, lockDatabase } = await bootstrap(io.cwd, io.env, undefined, COMMAND_LOGS);
  if (sub === 'status' && settings.database.driver === 'pglite') {
    const forwarded = await forwardToRunningServer(settings.dataDir, IN_SERVER.migrationStatus, io);
    if (forwarded !== undefined) return forwarded;
  }
  const unlock = lockDatabase();
  try {
    await kernel.prepare();
    const runner = kernel.migrations();
    if (sub === 'up') {
      const applied = await runner.up();
      io.out(applied.length ? applied.map((n) => `applied ${n}`).join('\n') : 'nothing to apply');
    } else if (sub === 'down') {
      const steps = arg === undefined ? 1 : Number(arg);
      // Reverting drops tables and their data: in production, say what would go and ask for --yes.
      if (settings.mode === 'production' && !confirmed) {
        const targets = await runner.downTargets(steps);
        if (targets.length === 0) {
          io.out('nothing to revert');
          return 0;
        }
        io.err(`migrate down would revert, dropping what they created (data included):\n${targets.map((n) => `  ${n}`).join('\n')}`);
        io.err('this is production (NODE_ENV=production): run it again with --yes to proceed');
        return 1;
      }
      const reverted = await runner.down(steps);
      io.out(reverted.length ? reverted.map((n) => `reverted ${n}`).join('\n') : 'nothing to revert');
    } else if (sub === 'status') {
      await migrationStatus(kernel, io);
    } else {
      io.err(`unknown migrate command "${sub}" (use up, down or status)`);
      return 2;
    }
    return 0;
  } finally {
    await kernel.stop();
    unlock();
  }
}

async function plugins(rest: readonly string[], io: CliIo): Promise<number> {
  if (rest.some((a) => a !== '--json')) {
    io.err('usage: empulse plugins [--json]');
    return 2;
  }
  const { kernel } = await bootstrap(io.cwd, io.env, undefined, COMMAND_LOGS);
  const described = kernel.describe();
  if (rest.includes('--json')) {
    // For scripts and graphs: every plugin with dependsOn (plugin ids), services, routes, tables.
    io.out(JSON.stringify({ kernel: KERNEL_VERSION, plugins: described }, null, 2));
    return 0;
  }
  for (const p of described) {
    io.out(`${p.id}@${p.version}${p.description ? `  ${p.description}` : ''}`);
    io.out(`  depends on: ${p.dependsOn.join(', ') || '(nothing)'}`);
    if (p.requires.length) io.out(`  requires:   ${p.requires.join(', ')} (services it cannot run without)`);
    if (p.optional.length) io.out(`  optional:   ${p.optional.join(', ')} (services it uses when provided)`);
    if (p.provides.length) io.out(`  provides:   ${p.provides.join(', ')}`);
    io.out(`  tables:     ${p.tables.join(', ') || '(none)'}`);
    io.out(`  migrations: ${p.migrations.join(', ') || '(none)'}`);
    if (p.healthChecks.length) io.out(`  checks:     ${p.healthChecks.join(', ')}`);
    if (p.commands.length) io.out(`  commands:   ${p.commands.map((c) => `empulse ${c}`).join(', ')}`);
    io.out(`  routes:${p.routes.length ? '' : '     (none)'}`);
    for (const r of p.routes) io.out(`    ${r.method.padEnd(6)} ${r.path}${r.summary ? `  ${r.summary}` : ''}`);
    io.out(`  options:    ${JSON.stringify(p.config)}`);
  }
  return 0;
}

async function check(io: CliIo): Promise<number> {
  const { kernel, settings, lockDatabase } = await bootstrap(io.cwd, io.env, undefined, COMMAND_LOGS);
  io.out('config: ok');
  // The embedded database belongs to the running server: ask it (read-only) instead of waiting.
  if (settings.database.driver === 'pglite') {
    const forwarded = await forwardToRunningServer(settings.dataDir, IN_SERVER.check, io);
    if (forwarded !== undefined) return forwarded;
  }
  const unlock = lockDatabase();
  try {
    await kernel.prepare();
    await kernel.boot({ migrate: 'skip', start: false });
    return await checkReport(kernel, io);
  } finally {
    await kernel.stop();
    unlock();
  }
}

/** `empulse backup <file>`: by the running server when there is one (it owns the database), else here. */
async function backup(file: string, io: CliIo): Promise<number> {
  const { kernel, settings, lockDatabase } = await bootstrap(io.cwd, io.env, undefined, COMMAND_LOGS);
  if (settings.database.driver !== 'pglite') {
    io.err('empulse backup copies the embedded database; with DATABASE_URL set, use pg_dump (README, "Backups")');
    return 2;
  }
  if (existsSync(file)) {
    io.err(`${file} exists: choose a new name (a backup never overwrites a file)`);
    return 1;
  }
  const forwarded = await forwardToRunningServer(settings.dataDir, [IN_SERVER.backup[0], file], io);
  if (forwarded !== undefined) return forwarded;
  const unlock = lockDatabase();
  try {
    await kernel.prepare();
    return await backupTo(kernel, file, io);
  } finally {
    await kernel.stop();
    unlock();
  }
}

async function backupTo(kernel: Kernel, file: string, io: CommandIo): Promise<number> {
  if (!isAbsolute(file)) {
    io.err('the backup path must be absolute');
    return 2;
  }
  const bytes = await dumpEmbedded(kernel.database);
  writeBackupFile(file, bytes);
  io.out(`backed up the embedded database to ${file} (${(bytes.length / 1024 / 1024).toFixed(1)} MiB)`);
  io.err(
    'keep with it what it cannot hold: DATA_DIR/secrets.json in development, or W9_ENCRYPTION_KEYS and W9_INDEX_KEY (without them its W-9 forms are unreadable), and the files under DATA_DIR/storage',
  );
  return 0;
}

/** `empulse restore <file>`: only with no server on DATA_DIR (the lock says which one runs). */
async function restore(file: string, io: CliIo): Promise<number> {
  const { settings, lockDatabase } = await bootstrap(io.cwd, io.env, undefined, COMMAND_LOGS);
  if (settings.database.driver !== 'pglite') {
    io.err('empulse restore replaces the embedded database; with DATABASE_URL set, use pg_restore or psql (README, "Backups")');
    return 2;
  }
  const bytes = readBackupFile(file);
  const unlock = lockDatabase();
  try {
    const { keptAt } = await restoreEmbedded(settings.database.dataDir!, bytes);
    io.out(`restored the embedded database from ${file}`);
    if (keptAt) io.out(`the database it replaced is kept at ${keptAt} (delete it once the restore is confirmed)`);
    io.out('next "empulse start" applies the migrations this version has and the backup lacks');
    return 0;
  } finally {
    unlock();
  }
}

/** The database, the migrations and every readiness check of a prepared kernel; 1 on any problem. */
async function checkReport(kernel: Kernel, io: CommandIo): Promise<number> {
  await kernel.database.ping();
  io.out(`database: ok (${kernel.database.driver})`);
  const pending = await kernel.migrations().pending();
  io.out(pending.length ? `migrations: ${pending.length} pending (applied by "empulse start" or "empulse migrate up")` : 'migrations: up to date');
  const report = await kernel.health.readiness();
  // A degraded check keeps a server ready (it still serves) but is a problem for the operator
  // to fix (a fallback in use, records a key is missing for): check exits 1 for it too.
  let problems = 0;
  for (const [name, r] of Object.entries(report.checks)) {
    if (r.status !== 'ok') problems++;
    (r.status === 'ok' ? io.out : io.err)(`${name}: ${r.status}${r.error ? ` (${r.error})` : ''} in ${r.latencyMs} ms`);
  }
  return problems > 0 ? 1 : 0;
}

async function migrationStatus(kernel: Kernel, io: CommandIo): Promise<number> {
  for (const m of await kernel.migrations().status()) {
    const state = m.orphaned ? 'applied (plugin disabled)' : m.applied ? 'applied' : 'pending';
    io.out(`${state.padEnd(26)} ${m.name}${m.appliedAt ? `  ${m.appliedAt.toISOString()}` : ''}`);
  }
  return 0;
}

/**
 * The read-only host commands a running server answers over its control socket, so they work
 * beside `npm start` on the embedded database (which only one process may open). Their words
 * start with a character no plugin command can (plugin commands are lower-case words).
 */
const IN_SERVER = { check: ['@check'], migrationStatus: ['@migrate-status'], backup: ['@backup'] } as const;

function inServer(kernel: Kernel) {
  return (words: readonly string[], io: CommandIo): Promise<number> => {
    if (words.length === 1 && words[0] === IN_SERVER.check[0]) return checkReport(kernel, io);
    if (words.length === 1 && words[0] === IN_SERVER.migrationStatus[0]) return migrationStatus(kernel, io);
    if (words.length === 2 && words[0] === IN_SERVER.backup[0]) return backupTo(kernel, words[1]!, io);
    return kernel.runCommand(words, io);
  };
}

/** The host's usage, then each enabled plugin's commands (when the config loads). */
async function usage(io: CliIo): Promise<string> {
  try {
    const { kernel } = await bootstrap(io.cwd, io.env, undefined, COMMAND_LOGS);
    const lines = kernel.plan.commands.map((c) => `  ${`${c.name} ${c.command.args ?? ''}`.trimEnd().padEnd(40)} ${c.command.description} (${c.plugin})`);
    return lines.length ? `${USAGE}\nplugin commands:\n${lines.join('\n')}\n` : USAGE;
  } catch {
    return USAGE;
  }
}

/**
 * A command an enabled plugin adds. On PostgreSQL it opens its own connection (safe beside
 * running servers). On the embedded database, which only one process may open, it runs inside
 * the server holding DATA_DIR when one runs, else opens the database itself.
 */
async function pluginCommand(words: readonly string[], io: CliIo): Promise<number> {
  const { kernel, settings, lockDatabase } = await bootstrap(io.cwd, io.env, undefined, COMMAND_LOGS);
  if (!kernel.findCommand(words)) {
    io.err(`unknown command "${words.join(' ')}"\n\n${await usage(io)}`);
    return 2;
  }
  if (settings.database.driver === 'pglite') {
    const forwarded = await forwardToRunningServer(settings.dataDir, words, io);
    if (forwarded !== undefined) return forwarded;
  }
  const unlock = lockDatabase();
  try {
    await kernel.boot({ migrate: 'require-none', start: false });
    return await kernel.runCommand(words, { out: io.out, err: io.err });
  } finally {
    await kernel.stop();
    unlock();
  }
}

export { USAGE };
