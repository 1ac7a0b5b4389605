/**
 * Node entry point: `node host/node.ts <command>` (what `npm start` and `npx empulse` run).
 * Owns the process: environment, signals and the exit code.
 */
import { readEnv } from './env.ts';
import { runCli } from './cli.ts';
import { createEmbeddedCluster } from './embedded-cluster.ts';

// `npx empulse plugins | head -3`: the reader has what it wanted and left. Stop quietly, as
// command-line tools do, instead of crashing with an unhandled EPIPE.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  process.exit(0);
});

const env = readEnv(process.cwd());
const code = await runCli(process.argv.slice(2), {
  cwd: process.cwd(),
  env,
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  createEmbeddedCluster,
  onSignal: (handler) => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => handler(signal));
  },
});
process.exitCode = code;
// Let stdout flush; then leave even if a library kept a handle open.
setTimeout(() => process.exit(code), 50).unref();
