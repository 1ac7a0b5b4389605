/**
 * `npm run test:deno`: proves the core runs on Deno. Runs the core test files with `deno test`
 * (they are node:test files; Deno runs them natively), then boots `host/deno.ts` with the same
 * config, waits for `/health/ready` 200 and stops it with SIGTERM (exit code 0 expected).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createScratchDatabase, freePort } from '../host/testing.ts';

const deno = join(import.meta.dirname, '..', 'node_modules', '.bin', 'deno');
/** What the core needs from Deno: network, env (the `debug` package enumerates it), hostname, file reads. */
const PERMISSIONS = ['--allow-net', '--allow-env', '--allow-sys=hostname,osRelease,uid,gid', '--allow-read'];
const CORE_SUITE = [
  'test/http-pipeline.test.ts',
  'test/kernel-graph.test.ts',
  'test/kernel-config.test.ts',
  'test/kernel-lifecycle.test.ts',
  'test/hooks.test.ts',
  'test/core-portability.test.ts',
  'test/request-validation.test.ts',
  'test/pagination.test.ts',
  'test/body-kinds.test.ts', // uploads: busboy, web streams and the host server under Deno's node:http
  'test/w9-crypto.test.ts', // the W-9 plugin's Web Crypto code (key ring, field cipher, blind index)
];

const suite = spawnSync(deno, ['test', ...PERMISSIONS, '--no-check', ...CORE_SUITE], { stdio: 'inherit' });
if (suite.status !== 0) {
  console.error('deno: the core suite failed');
  process.exit(suite.status ?? 1);
}

const port = await freePort();
const scratch = await createScratchDatabase();
const cwd = join(import.meta.dirname, '..');
const dataDir = mkdtempSync(join(tmpdir(), 'empulse-deno-'));
// The host also loads the auth plugin, whose argon2 is a native addon (FFI), and writes DATA_DIR.
const child = spawn(deno, ['run', ...PERMISSIONS, '--allow-ffi', `--allow-write=${dataDir}`, '--no-check', 'host/deno.ts', 'start'], {
  cwd,
  env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: scratch.url, DATA_DIR: dataDir, LOG_LEVEL: 'warn' },
  stdio: ['ignore', 'inherit', 'inherit'],
});
const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
try {
  const ready = await waitForReady(`http://127.0.0.1:${port}/health/ready`, 60_000);
  console.log(`deno host: GET /health/ready -> ${ready.status} ${JSON.stringify(ready.body)}`);
  if (ready.status !== 200) throw new Error('readiness is not 200 under Deno');
  // A registration exercises argon2 (native addon), the database and the email outbox under Deno.
  const registered = await fetch(`http://127.0.0.1:${port}/v1/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'deno@example.com', password: 'deno horse battery staple', displayName: 'Deno' }),
  });
  console.log(`deno host: POST /v1/auth/register -> ${registered.status} ${await registered.text()}`);
  if (registered.status !== 202) throw new Error('registration did not answer 202 under Deno');
  child.kill('SIGTERM');
  const code = await exited;
  console.log(`deno host: exit code after SIGTERM ${code}`);
  if (code !== 0) throw new Error(`the Deno host exited with ${code}`);
  console.log('deno: 3 passed, 0 failed');
} catch (err) {
  console.error(`deno: ${err instanceof Error ? err.message : String(err)}`);
  child.kill('SIGKILL');
  process.exitCode = 1;
} finally {
  await scratch.drop();
  rmSync(dataDir, { recursive: true, force: true });
}

async function waitForReady(url: string, timeoutMs: number): Promise<{ status: number; body: unknown }> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url);
      return { status: res.status, body: await res.json() };
    } catch {
      if (Date.now() > until) throw new Error(`${url} did not answer within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

