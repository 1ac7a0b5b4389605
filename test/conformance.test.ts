/**
 * The conformance suite (host/conformance.ts) for every built-in plugin, each with only the
 * dependencies it needs: migrations up/down/up, entities matching migrations, id-prefixed tables
 * and migrations, routes under their prefixes, two kernels side by side, stop within its timeout.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { configure } from '../core/index.ts';
import { pluginConformance } from '../host/testing.ts';
import { adminPlugin } from '../plugins/admin/index.ts';
import { artistsPlugin } from '../plugins/artists/index.ts';
import { auditPlugin } from '../plugins/audit/index.ts';
import { authPlugin } from '../plugins/auth/index.ts';
import { emailPlugin } from '../plugins/email/index.ts';
import { healthPlugin } from '../plugins/health/index.ts';
import { lockoutPlugin } from '../plugins/lockout/index.ts';
import { metricsPlugin } from '../plugins/metrics/index.ts';
import { openApiPlugin } from '../plugins/openapi/index.ts';
import { ratelimitPlugin } from '../plugins/ratelimit/index.ts';
import { storagePlugin } from '../plugins/storage/index.ts';
import { tracksPlugin } from '../plugins/tracks/index.ts';
import { w9EncryptionPlugin } from '../plugins/w9-encryption/index.ts';

const outboxDir = mkdtempSync(join(tmpdir(), 'empulse-conformance-'));
const storageDir = mkdtempSync(join(tmpdir(), 'empulse-conformance-storage-'));
after(() => {
  rmSync(outboxDir, { recursive: true, force: true });
  rmSync(storageDir, { recursive: true, force: true });
});

const email = configure(emailPlugin, { transport: 'outbox', outboxDir });
const env = { JWT_SECRET: 'conformance-test-secret-0123456789-abcdefghijklmnopqrstuvwxyz' };

pluginConformance(healthPlugin);
pluginConformance(openApiPlugin);
pluginConformance(metricsPlugin, { config: { token: 'conformance-metrics-token-0123456789' } });
pluginConformance(emailPlugin, { config: { transport: 'outbox', outboxDir } });
pluginConformance(authPlugin, { dependencies: [email], env });
pluginConformance(lockoutPlugin, { dependencies: [authPlugin, email], env });
pluginConformance(ratelimitPlugin, { config: { backend: 'memory' } });
pluginConformance(storagePlugin, { config: { driver: 'local', dir: storageDir, signingKey: 'conformance-storage-signing-key-0123456789-abcdef' } });
pluginConformance(auditPlugin, { dependencies: [authPlugin, email], env });
pluginConformance(adminPlugin, { dependencies: [authPlugin, auditPlugin, email], env });
pluginConformance(adminPlugin, { dependencies: [authPlugin, auditPlugin, lockoutPlugin, email], env });
pluginConformance(artistsPlugin, { dependencies: [authPlugin, auditPlugin, email], env });
const storage = configure(storagePlugin, { driver: 'local', dir: storageDir, signingKey: 'conformance-storage-signing-key-0123456789-abcdef' });
pluginConformance(tracksPlugin, { dependencies: [authPlugin, auditPlugin, email, artistsPlugin, storage], env });
pluginConformance(w9EncryptionPlugin, { dependencies: [authPlugin, auditPlugin, email], env });
