/**
 * The w9-encryption plugin's keys as an operator sets them: production refuses to boot without the
 * ring and the index key, naming each variable; a malformed one is a boot error in any mode that
 * says what is wrong and never shows a key; `empulse plugins` prints both as redacted.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { BootError, createLogger, Kernel, type Env, type RuntimeMode } from '../core/index.ts';
import { auditPlugin } from '../plugins/audit/index.ts';
import { authPlugin } from '../plugins/auth/index.ts';
import { emailPlugin } from '../plugins/email/index.ts';
import { w9EncryptionPlugin } from '../plugins/w9-encryption/index.ts';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootstrap } from '../host/bootstrap.ts';
import { captureLogger } from './support/capture-logger.ts';
import { projectRoot } from './support/paths.ts';

const KEY = randomBytes(32).toString('base64');
const JWT_SECRET = 'w9-config-test-secret-0123456789-abcdefghijklmnopqrstuvwxyz';

function plan(env: Env, mode: RuntimeMode): Kernel {
  return new Kernel({
    config: { plugins: [emailPlugin, authPlugin, auditPlugin, w9EncryptionPlugin] },
    env: { JWT_SECRET, RESEND_API_KEY: 're_test', EMAIL_FROM: 'label@example.test', PUBLIC_APP_URL: 'https://app.example.test', ...env },
    mode,
    logger: createLogger({ level: 'silent' }),
    database: { driver: 'postgresql', url: 'postgresql://nobody@127.0.0.1:1/never_opened' },
  });
}

/** The W-9 problems a boot would report (the other plugins' are not this test's business). */
function w9Problems(env: Env, mode: RuntimeMode): string[] {
  try {
    plan(env, mode);
  } catch (err) {
    assert.ok(err instanceof BootError, String(err));
    return err.problems.filter((p) => p.plugin === 'w9-encryption').map((p) => `${p.path}: ${p.message}`);
  }
  return [];
}

describe('w9-encryption: keys', () => {
  it('production refuses to boot without W9_ENCRYPTION_KEYS and W9_INDEX_KEY, naming both', () => {
    const problems = w9Problems({}, 'production');
    assert.equal(problems.length, 2, problems.join('\n'));
    assert.match(problems[0]!, /^W9_ENCRYPTION_KEYS: .*set W9_ENCRYPTION_KEYS \(keyId:base64 of 32 random bytes/);
    assert.match(problems[1]!, /^W9_INDEX_KEY: .*set W9_INDEX_KEY/);
    assert.deepEqual(w9Problems({ W9_ENCRYPTION_KEYS: `k1:${KEY}`, W9_INDEX_KEY: KEY }, 'production'), []);
    // Development and tests boot without them (the host generates them for `npm start`).
    assert.deepEqual(w9Problems({}, 'development'), []);
  });

  it('refuses a malformed ring or index key in any mode, saying what is wrong without showing a key', () => {
    const short = randomBytes(16).toString('base64');
    const cases: [Env, RegExp][] = [
      [{ W9_ENCRYPTION_KEYS: KEY }, /^W9_ENCRYPTION_KEYS: .*entry 1 has no key id/],
      [{ W9_ENCRYPTION_KEYS: `k1:${short}` }, /^W9_ENCRYPTION_KEYS: .*key "k1" is not base64 of 32 bytes/],
      [{ W9_ENCRYPTION_KEYS: `k1:${KEY},k1:${KEY}` }, /key id "k1" appears twice/],
      [{ W9_ENCRYPTION_KEYS: ' , ' }, /holds no key/],
      [{ W9_INDEX_KEY: short }, /^W9_INDEX_KEY: .*not base64 of 32 bytes/],
    ];
    for (const mode of ['development', 'production'] as const) {
      for (const [env, expected] of cases) {
        const problems = w9Problems({ W9_ENCRYPTION_KEYS: `k1:${KEY}`, W9_INDEX_KEY: KEY, ...env }, mode);
        assert.equal(problems.length, 1, `${JSON.stringify(env)}: ${problems.join('\n')}`);
        assert.match(problems[0]!, expected);
        assert.ok(!problems[0]!.includes(KEY) && !problems[0]!.includes(short), 'no key in the message');
      }
    }
  });

  it('describes both keys as redacted', () => {
    const kernel = plan({ W9_ENCRYPTION_KEYS: `k1:${KEY}`, W9_INDEX_KEY: KEY }, 'development');
    const described = kernel.describe().find((d) => d.id === 'w9-encryption')!;
    assert.ok(!JSON.stringify(described).includes(KEY));
    assert.deepEqual(described.tables, ['w9_encryption_forms']);
    assert.deepEqual(
      described.routes.map((r) => `${r.method} ${r.path}`).sort(),
      ['GET /v1/w9', 'POST /v1/admin/w9/:userId/reveal', 'POST /v1/admin/w9/search', 'PUT /v1/w9'],
    );
    assert.deepEqual(described.commands, ['w9 rotate-keys']);
    assert.equal((described.config as Record<string, unknown>).encryptionKeys, '[redacted]');
    assert.equal((described.config as Record<string, unknown>).indexKey, '[redacted]');
  });

  it('development: the host generates the keys once into DATA_DIR and says so in the log, once', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'empulse-w9-dev-'));
    try {
      const env = { DATA_DIR: dataDir, NODE_ENV: 'development' };
      const first = captureLogger('info');
      const booted = await bootstrap(projectRoot, env, first.logger);
      const said = first.lines.filter((l) => typeof l.msg === 'string' && l.msg.includes('W9_ENCRYPTION_KEYS'));
      assert.equal(said.length, 1, first.text());
      assert.equal(said[0]!.level, 'warn');
      assert.match(String(said[0]!.msg), new RegExp(`generated .*W9_ENCRYPTION_KEYS, W9_INDEX_KEY and kept them in ${join(dataDir, 'secrets.json').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
      const kept = JSON.parse(await readFile(join(dataDir, 'secrets.json'), 'utf8')) as Record<string, string>;
      assert.equal(booted.kernel.describe().find((d) => d.id === 'w9-encryption')?.id, 'w9-encryption');
      for (const name of ['W9_ENCRYPTION_KEYS', 'W9_INDEX_KEY']) {
        const secret = kept[name]!.split(':').at(-1)!;
        assert.ok(secret.length >= 43 && !first.text().includes(secret), `${name} is kept, and not logged`);
      }
      const second = captureLogger('info');
      await bootstrap(projectRoot, env, second.logger);
      assert.equal(second.lines.filter((l) => typeof l.msg === 'string' && l.msg.includes('generated')).length, 0, 'kept, not generated again');
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
