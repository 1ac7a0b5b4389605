/**
 * The real server (`node host/node.ts start`, or `npm start`) in a child process, as an operator
 * runs it: its JSON log lines are parsed as they come, and a test can wait for one.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { freePort } from '../../host/testing.ts';
import { projectPath } from './paths.ts';

export type LogLine = Record<string, unknown> & { msg?: string; level?: string };

export interface EmpulseServer {
  readonly port: number;
  readonly url: string;
  readonly child: ChildProcessWithoutNullStreams;
  readonly logs: LogLine[];
  readonly stderr: () => string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the first log line (already seen or still to come) that matches. */
  waitForLog(match: (line: LogLine) => boolean, what: string): Promise<LogLine>;
  /** SIGKILL, then waits for the process to be gone. */
  kill(): Promise<void>;
}

export interface ServerOptions {
  /** The directory it runs in (its `empulse.config.ts`, unless `via` is npm). */
  readonly cwd: string;
  readonly env: Record<string, string>;
  /** `npm start` runs the project's start script from its root with EMPULSE_CONFIG = cwd's config. */
  readonly via?: 'node' | 'npm start' | 'npm start --silent';
}

/** Variables of the test's own environment that would change the server's behaviour. */
const INHERITED_NOT = ['NODE_ENV', 'EMPULSE_AUTO_MIGRATE', 'EMPULSE_CONFIG', 'SHUTDOWN_TIMEOUT_MS', 'DATABASE_POOL_MAX', 'NODE_TEST_CONTEXT'];

// PORT=0 would not tell us the port the server picked, so a free one is chosen first (freePort).
export async function startEmpulseServer(options: ServerOptions): Promise<EmpulseServer> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of INHERITED_NOT) delete env[k];
  Object.assign(env, { PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info', ...options.env });
  const via = options.via ?? 'node';
  // process.execPath is the Node that runs the tests (24 under npm scripts), which runs .ts itself.
  // npm runs the server as its child: started as a process group, so kill() reaches both.
  const child =
    via === 'node'
      ? spawn(process.execPath, [projectPath('host/node.ts'), 'start'], { cwd: options.cwd, env })
      : spawn('npm', via.split(' ').slice(1), { cwd: projectPath('.'), env: { ...env, EMPULSE_CONFIG: `${options.cwd}/empulse.config.ts` }, detached: true });
  const logs: LogLine[] = [];
  const waiters: { match: (line: LogLine) => boolean; resolve: (line: LogLine) => void }[] = [];
  let pending = '';
  let stderr = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    pending += chunk;
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const text = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        line = { msg: text, level: 'raw' };
      }
      logs.push(line);
      for (const w of [...waiters]) {
        if (w.match(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => (stderr += chunk));
  // 'close', not 'exit': it comes after the child's stdout was read to its end, so every log
  // line the process wrote is in `logs` when a test looks at them.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  );
  const server: EmpulseServer = {
    port,
    url: `http://127.0.0.1:${port}`,
    child,
    logs,
    stderr: () => stderr,
    exited,
    waitForLog: (match, what) => {
      const seen = logs.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise<LogLine>((resolve, reject) => {
        waiters.push({ match, resolve });
        void exited.then(({ code, signal }) =>
          reject(new Error(`server exited (${code ?? signal}) before logging ${what}\nstderr:\n${stderr}\nlogs:\n${logs.map((l) => JSON.stringify(l)).join('\n')}`)),
        );
      });
    },
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        if (via === 'node') child.kill('SIGKILL');
        else process.kill(-child.pid!, 'SIGKILL');
      }
      await exited;
    },
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const tooLong = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the server did not log "listening" within 60 s\nstderr:\n${stderr}`)), 60_000);
  });
  try {
    await Promise.race([server.waitForLog((l) => l.msg === 'listening', '"listening"'), tooLong]);
  } catch (err) {
    await server.kill();
    throw err;
  } finally {
    clearTimeout(timer);
  }
  return server;
}
