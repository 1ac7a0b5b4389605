/**
 * tracks plugin: approved artists submit masters (`POST /v1/tracks`, streamed to storage with the
 * format sniffed from the bytes, SHA-256 and duration read on the way), see and edit them while
 * submitted, download them through short-lived URLs; admins review them (approve / reject, audited
 * and emailed in one transaction). Stands on the auth, artists, storage, audit and email services.
 */
import { definePlugin } from '../../core/index.ts';
import { artistsServiceRef } from '../artists/contract.ts';
import { auditServiceRef } from '../audit/contract.ts';
import { authServiceRef } from '../auth/contract.ts';
import { emailServiceRef } from '../email/contract.ts';
import { openApiServiceRef } from '../openapi/contract.ts';
import { storageServiceRef } from '../storage/contract.ts';
import { tracksConfigFromEnv, tracksConfigSchema } from './config.ts';
import type { TracksState } from './context.ts';
import { tracksEmails } from './emails.ts';
import { tracksMigrations } from './migrations.ts';
import { documentUpload } from './openapi.ts';
import { tracksProblems } from './problems.ts';
import { registerTracksRoutes } from './routes.ts';
import { namedTracksSchemas } from './schemas.ts';
import { TrackStore } from './track-store.ts';

export const tracksPlugin = definePlugin({
  id: 'tracks',
  version: '0.1.0',
  kernel: '^0.1.0',
  description: 'Track submissions by approved artists (streamed, sniffed, verified) and their review by admins',
  requires: { auth: authServiceRef, artists: artistsServiceRef, storage: storageServiceRef, audit: auditServiceRef, email: emailServiceRef },
  optional: { openapi: openApiServiceRef },
  config: tracksConfigSchema,
  fromEnv: tracksConfigFromEnv,
  problems: [tracksProblems],
  tables: ['tracks_submissions'],
  migrations: tracksMigrations,
  prefixes: ['/v1/tracks', '/v1/admin/tracks'],
  init(ctx) {
    const { auth, audit, email, storage } = ctx.services;
    email.registerTemplates(...tracksEmails);
    ctx.services.openapi?.nameSchemas(namedTracksSchemas);
    ctx.services.openapi?.decorate(documentUpload);
    const store = new TrackStore();
    const emit = ctx.emit.bind(ctx);
    const state: TracksState = {
      store,
      uploadDeps: { db: ctx.db, store, storage, logger: ctx.logger, maxBytes: ctx.config.maxBytes, emit },
      reviewDeps: { db: ctx.db, store, auth, audit, email, logger: ctx.logger, emit },
      removalDeps: { db: ctx.db, store, storage, logger: ctx.logger, emit },
    };
    return { state };
  },
  routes(router, ctx) {
    registerTracksRoutes(router, ctx);
  },
});
