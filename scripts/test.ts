/**
 * `npm test`: checks that PostgreSQL and Redis answer, then runs every test file with node:test
 * (through tsx) under c8 coverage. With CI=true an unreachable service fails the run loudly;
 * elsewhere the tests fall back to the embedded database and say so.
 */
import { spawnSync } from 'node:child_process';
import { connect } from 'node:net';

function reachable(host: string, port: number, timeoutMs = 1500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

const ci = process.env.CI === 'true';
const pgUrl = new URL(process.env.TEST_DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/test');
const redisUrl = new URL(process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379');
const env: NodeJS.ProcessEnv = { ...process.env };

const pgUp = await reachable(pgUrl.hostname, Number(pgUrl.port || 5432));
const redisUp = await reachable(redisUrl.hostname, Number(redisUrl.port || 6379));
if (!pgUp || !redisUp) {
  const missing = [!pgUp && `PostgreSQL at ${pgUrl.host}`, !redisUp && `Redis at ${redisUrl.host}`].filter(Boolean).join(' and ');
  if (ci) {
    console.error(`test: ${missing} unreachable; CI needs the real services (see README, "Tests").`);
    process.exit(1);
  }
  if (!pgUp) {
    console.warn(
      `test: ${missing} unreachable; test kernels use the embedded database instead, and the tests that need PostgreSQL itself (several instances on one database, the CLI with DATABASE_URL) will fail.`,
    );
    env.EMPULSE_TEST_DB = 'pglite';
  }
  if (!redisUp) env.EMPULSE_TEST_NO_REDIS = 'true';
}

const files = process.argv.slice(2);
const result = spawnSync(
  'c8',
  ['--reporter=text-summary', '--reporter=lcov', '--exclude=test/**', '--exclude=bench/**', '--exclude=scripts/**',
    'tsx', '--test', '--test-concurrency=2', '--test-timeout=120000', ...(files.length ? files : ['test/**/*.test.ts', 'examples/**/*.test.ts'])],
  { stdio: 'inherit', env },
);
process.exit(result.status ?? 1);
