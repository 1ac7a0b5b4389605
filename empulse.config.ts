/**
 * Which plugins this deployment runs. Each entry is a plugin, or `configure(plugin, options)`
 * for typed options. Environment variables (see .env.example) fill options you leave out.
 */
import { defineConfig } from './core/index.ts';
import { adminPlugin } from './plugins/admin/index.ts';
import { artistsPlugin } from './plugins/artists/index.ts';
import { auditPlugin } from './plugins/audit/index.ts';
import { authPlugin } from './plugins/auth/index.ts';
import { emailPlugin } from './plugins/email/index.ts';
import { healthPlugin } from './plugins/health/index.ts';
import { lockoutPlugin } from './plugins/lockout/index.ts';
import { metricsPlugin } from './plugins/metrics/index.ts';
import { openApiPlugin } from './plugins/openapi/index.ts';
import { ratelimitPlugin } from './plugins/ratelimit/index.ts';
import { storagePlugin } from './plugins/storage/index.ts';
import { tracksPlugin } from './plugins/tracks/index.ts';
import { w9EncryptionPlugin } from './plugins/w9-encryption/index.ts';

export default defineConfig({
  plugins: [
    healthPlugin,
    metricsPlugin,
    openApiPlugin,
    emailPlugin,
    authPlugin,
    storagePlugin,
    lockoutPlugin,
    ratelimitPlugin,
    auditPlugin,
    adminPlugin,
    artistsPlugin,
    tracksPlugin,
    w9EncryptionPlugin,
  ],
  // Options go through configure(), e.g. configure(lockoutPlugin, { threshold: 5, lockSeconds: 900 }).
});
