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
import { request as httpRequest } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createScratchDatabase } from '../host/testing.ts';
import { startEmpulseServer, type EmpulseServer, type ServerOptions } from './support/empulse-server.ts';
import { projectImport } from './support/paths.ts';

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

type HttpOutcome = { status: number; body: string } | { error: string };

let dir: string;
let databaseUrl: string;
let dropDatabase: () => Promise<void>;
const servers: EmpulseServer[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'empulse-shutdown-'));
  await writeFile(join(dir, 'package.json'), '{ "type": "module" }\n');
  await writeFile(join(dir, 'empulse.config.ts'), CONFIG);
  const scratch = await createScratchDatabase();
  databaseUrl = scratch.url;
  dropDatabase = scratch.drop;
});

after(async () => {
  for (const s of servers) await s.kill();
  await dropDatabase?.();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function startServer(extraEnv: Record<string, string> = {}, via: NonNullable<ServerOptions['via']> = 'node'): Promise<EmpulseServer> {
  const server = await startEmpulseServer({ cwd: dir, via, env: { DATABASE_URL: databaseUrl, DATA_DIR: join(dir, '.empulse'), ...extraEnv } });
  servers.push(server);
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

const isAlive = (s: EmpulseServer) => s.child.exitCode === null && s.child.signalCode === null;

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
    // By the lines' own times: a request's log line may reach stdout after a later line of the kernel's.
    const timeOf = (msg: string) => Date.parse(String(server.logs.find((l) => l.msg === msg)?.time));
    const stoppedAt = timeOf('kernel stopped');
    const finishedAt = timeOf('slow request finished');
    assert.ok(
      finishedAt <= stoppedAt,
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
