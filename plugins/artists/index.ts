/**
 * artists plugin: an artist applies with a profile (PUT /v1/artists/me) and an admin approves or
 * rejects it (/v1/admin/artists); each decision is audited and emailed in its own transaction.
 * Provides the `artists` service, whose `requireApprovedArtist` guards routes only approved
 * artists may use (track uploads).
 */
import { definePlugin } from '../../core/index.ts';
import { auditServiceRef } from '../audit/contract.ts';
import { authServiceRef } from '../auth/contract.ts';
import { emailServiceRef } from '../email/contract.ts';
import { openApiServiceRef } from '../openapi/contract.ts';
import { artistsServiceRef } from './contract.ts';
import type { ArtistsState } from './context.ts';
import { artistsEmails } from './emails.ts';
import { artistsMigrations } from './migrations.ts';
import { ProfileStore } from './profile-store.ts';
import { artistsProblems } from './problems.ts';
import { registerArtistsRoutes } from './routes.ts';
import { namedArtistsSchemas } from './schemas.ts';
import { createArtistsService } from './service.ts';

const ADMIN_PREFIX = '/v1/admin/artists';

export const artistsPlugin = definePlugin({
  id: 'artists',
  version: '0.1.0',
  kernel: '^0.1.0',
  description: 'Artist profiles and their review by admins',
  requires: { auth: authServiceRef, audit: auditServiceRef, email: emailServiceRef },
  optional: { openapi: openApiServiceRef },
  provides: { artists: artistsServiceRef },
  problems: [artistsProblems],
  tables: ['artists_profiles'],
  migrations: artistsMigrations,
  prefixes: ['/v1/artists', ADMIN_PREFIX],
  init(ctx) {
    const { auth, audit, email } = ctx.services;
    email.registerTemplates(...artistsEmails);
    ctx.services.openapi?.nameSchemas(namedArtistsSchemas);
    const store = new ProfileStore();
    const state: ArtistsState = { store, reviewDeps: { db: ctx.db, store, auth, audit, email } };
    return { services: { artists: createArtistsService({ auth, db: ctx.db, store }) }, state };
  },
  routes(router, ctx) {
    registerArtistsRoutes(router, ctx);
  },
});
