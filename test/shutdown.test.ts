/**
 * Graceful shutdown of the real server process (`node host/node.ts start`), as the operator
 * contract describes it: on SIGTERM readiness turns 503 at once and the listener closes, in-flight
 * requests finish (up to SHUTDOWN_TIMEOUT_MS), a repeated signal does not cut the drain short, and
 * the process exits 0.
 *
 * The server runs in a temporary directory whose `empulse.config.ts` adds a `slow` plugin: its
 * route logs when it starts, then waits until the test creates a release file (or `ms` passed).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createScratchDatabase, freePort } from '../host/testing.ts';
import { projectImport, projectPath } from './support/paths.ts';

const CONFIG = `import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig, definePlugin } from '${projectImport('core/index.ts')}';
import { healthPlugin } from '${projectImport('plugins/health/index.ts')}';

const here = fileURLToPath(new URL('.', import.meta.url));
const slow = definePlugin({
  id: 'slow',
  version: '1.0.0',
  routes(router) {
    router.get('/v1/slow', { timeoutMs: 60000 }, async (ctx) => {
      const ticket = String(ctx.query.ticket);
      const maxMs = Number(ctx.query.ms ?? 20000);
      ctx.state.log.info({ ticket }, 'slow request started');
      const started = Date.now();
      while (!existsSync(here + 'release-' + ticket) && Date.now() - started < maxMs) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      ctx.body = { done: true, ticket };
      ctx.state.log.info({ ticket }, 'slow request finished');
    });
  },
});
export default defineConfig({ plugins: [healthPlugin, slow] });
`;

type LogLine = Record<string, unknown> & { msg?: string; level?: string };

interface Server {
  readonly port: number;
  readonly child: ChildProcessWithoutNullStreams;
  readonly logs: LogLine[];
  readonly stderr: () => string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the first log line (already seen or still to come) that matches. */
  waitForLog(match: (line: LogLine) => boolean, what: string): Promise<LogLine>;
}

type HttpOutcome = { status: number; body: string } | { error: string };

let dir: string;
let databaseUrl: string;
let dropDatabase: () => Promise<void>;
const servers: Server[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'empulse-shutdown-'));
  await writeFile(join(dir, 'package.json'), '{ "type": "module" }\n');
  await writeFile(join(dir, 'empulse.config.ts'), CONFIG);
  const scratch = await createScratchDatabase();
  databaseUrl = scratch.url;
  dropDatabase = scratch.drop;
});

after(async () => {
  for (const s of servers) {
    if (s.child.exitCode === null && s.child.signalCode === null) {
      s.child.kill('SIGKILL');
      await s.exited;
    }
  }
  await dropDatabase?.();
  if (dir) await rm(dir, { recursive: true, force: true });
});

// PORT=0 would not tell us the port the server picked, so a free one is chosen first (freePort).
async function startServer(extraEnv: Record<string, string> = {}, via: 'node' | 'npm start' | 'npm start --silent' = 'node'): Promise<Server> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of ['NODE_ENV', 'EMPULSE_AUTO_MIGRATE', 'EMPULSE_CONFIG', 'SHUTDOWN_TIMEOUT_MS', 'DATABASE_POOL_MAX', 'NODE_TEST_CONTEXT']) delete env[k];
  Object.assign(env, {
    PORT: String(port),
    HOST: '127.0.0.1',
    DATABASE_URL: databaseUrl,
    DATA_DIR: join(dir, '.empulse'),
    LOG_LEVEL: 'info',
    ...extraEnv,
  });
  // process.execPath is the Node that runs the tests (24 under npm scripts), which runs .ts itself.
  // `npm start` runs the project's own start script from its root (what an operator and a process
  // manager do), with this test's config.
  const child =
    via === 'node'
      ? spawn(process.execPath, [projectPath('host/node.ts'), 'start'], { cwd: dir, env })
      : spawn('npm', via.split(' ').slice(1), { cwd: projectPath('.'), env: { ...env, EMPULSE_CONFIG: join(dir, 'empulse.config.ts') } });
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
  const server: Server = {
    port,
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
  };
  servers.push(server);
  await server.waitForLog((l) => l.msg === 'listening', '"listening"');
  return server;
}

/** One GET on a fresh connection; a refused or reset connection is an outcome, not a failure. */
function get(port: number, path: string): Promise<HttpOutcome> {
  return new Promise((resolve) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
    req.end();
  });
}

const isAlive = (s: Server) => s.child.exitCode === null && s.child.signalCode === null;

describe('graceful shutdown of the server process', () => {
  it('on SIGTERM finishes the in-flight request, refuses readiness, ignores a second SIGTERM and exits 0', { timeout: 60_000 }, async () => {
    const server = await startServer();
    const ready = await get(server.port, '/health/ready');
    assert.ok('status' in ready && ready.status === 200, `ready before the signal: ${JSON.stringify(ready)}`);

    let settled = false;
    const slow = get(server.port, '/v1/slow?ticket=drain').finally(() => (settled = true));
    await server.waitForLog((l) => l.msg === 'slow request started' && l.ticket === 'drain', 'the slow request');

    server.child.kill('SIGTERM');
    await server.waitForLog((l) => l.reason === 'SIGTERM', 'the start of the shutdown');

    const during = await get(server.port, '/health/ready');
    assert.ok(
      ('status' in during && during.status === 503) || ('error' in during && ['ECONNREFUSED', 'ECONNRESET'].includes(during.error)),
      `after SIGTERM readiness must answer 503 or refuse the connection, got ${JSON.stringify(during)}`,
    );

    server.child.kill('SIGTERM');
    await server.waitForLog((l) => l.reason === 'SIGTERM' && l !== server.logs.find((x) => x.reason === 'SIGTERM'), 'the second SIGTERM');
    assert.equal(isAlive(server), true, 'the second SIGTERM does not end the process');
    assert.equal(settled, false, 'the in-flight request is still running');

    await writeFile(join(dir, 'release-drain'), '');
    const outcome = await slow;
    assert.ok('status' in outcome, `the in-flight request completes: ${JSON.stringify(outcome)}`);
    assert.equal(outcome.status, 200, outcome.body);
    assert.deepEqual(JSON.parse(outcome.body), { done: true, ticket: 'drain' });

    const exit = await server.exited;
    assert.deepEqual(exit, { code: 0, signal: null }, server.stderr());
    assert.ok(server.logs.some((l) => l.msg === 'kernel stopped'), 'plugins were stopped before exiting');
    const stoppedAt = server.logs.findIndex((l) => l.msg === 'kernel stopped');
    const finishedAt = server.logs.findIndex((l) => l.msg === 'slow request finished');
    assert.ok(
      finishedAt >= 0 && finishedAt < stoppedAt,
      `the kernel stops after the in-flight request finished:\n${server.logs.map((l) => JSON.stringify(l)).join('\n')}`,
    );
  });

  it('`npm start` passes SIGTERM to the server: npm exits 0 and the server is gone', { timeout: 60_000 }, async () => {
    // What a process manager does: signal the process it started, which is npm. npm forwards the
    // signal to its child only; the start script `exec`s Node, so that child is the server itself.
    const server = await startServer({}, 'npm start');
    assert.deepEqual(await get(server.port, '/health/live'), { status: 200, body: '{"status":"ok"}' });
    server.child.kill('SIGTERM');
    const { code, signal } = await server.exited;
    assert.deepEqual({ code, signal }, { code: 0, signal: null }, server.stderr());
    assert.ok(server.logs.some((l) => l.msg === 'kernel stopped'), 'the server stopped gracefully');
    assert.deepEqual(await get(server.port, '/health/live'), { error: 'ECONNREFUSED' }, 'nothing listens any more');
  });

  it('`npm start --silent` writes nothing but JSON log lines on stdout (no npm banner), for log shippers', { timeout: 60_000 }, async () => {
    const server = await startServer({}, 'npm start --silent');
    await server.waitForLog((l) => l.msg === 'listening', 'listening');
    server.child.kill('SIGTERM');
    assert.deepEqual(await server.exited, { code: 0, signal: null }, server.stderr());
    assert.ok(server.logs.length > 3);
    assert.deepEqual(server.logs.filter((l) => l.level === 'raw'), [], 'every stdout line is a JSON log line');
  });

  it('with SHUTDOWN_TIMEOUT_MS=200 exits 0 without waiting for a 3 s request', { timeout: 60_000 }, async () => {
    const server = await startServer({ SHUTDOWN_TIMEOUT_MS: '200' });
    const slow = get(server.port, '/v1/slow?ticket=cut&ms=3000');
    await server.waitForLog((l) => l.msg === 'slow request started' && l.ticket === 'cut', 'the slow request');

    server.child.kill('SIGTERM');
    const exit = await server.exited;
    assert.deepEqual(exit, { code: 0, signal: null }, server.stderr());

    const outcome = await slow;
    assert.ok('error' in outcome, `the request still running at the timeout is cut off: ${JSON.stringify(outcome)}`);
    assert.ok(
      !server.logs.some((l) => l.msg === 'slow request finished'),
      'the process exited before the 3 s request could finish (it did not wait for it)',
    );
    assert.ok(server.logs.some((l) => l.level === 'warn' && l.inFlight === 1), 'the timeout is logged with what was cut off');
    assert.ok(server.logs.some((l) => l.msg === 'kernel stopped'), 'plugins were still stopped');
  });
});
