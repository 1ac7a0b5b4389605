/**
 * w9-encryption plugin: artists' W-9 tax forms, with the TIN, the address and the signature
 * encrypted at rest under a rotatable key ring (Web Crypto only, so it runs on Deno too), a keyed
 * blind index to find a TIN without decrypting, and admin reveal and search on the record (one
 * audit entry each, in the same transaction). `npx empulse w9 rotate-keys` re-encrypts under the
 * ring's new first key while the service runs.
 */
import { definePlugin } from '../../core/index.ts';
import { auditServiceRef } from '../audit/contract.ts';
import { authServiceRef } from '../auth/contract.ts';
import { openApiServiceRef } from '../openapi/contract.ts';
import { createBlindIndex } from './blind-index.ts';
import { validateW9Config, w9ConfigFromEnv, w9ConfigSchema } from './config.ts';
import type { W9State } from './context.ts';
import { FieldCipher } from './field-cipher.ts';
import { FormStore } from './form-store.ts';
import { importKeyRing } from './key-ring.ts';
import { describeMissing, missingKeys, summariseMissing } from './key-usage.ts';
import { tinMaskingLogger } from './masking-logger.ts';
import { w9Migrations } from './migrations.ts';
import { w9Problems } from './problems.ts';
import { rotateKeysCommand } from './rotation.ts';
import { registerW9Routes } from './routes.ts';
import { namedW9Schemas } from './schemas.ts';

/** 32 random bytes as standard base64: a key for a kernel that was given none (tests). */
function randomKey(): string {
  return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
}

export const w9EncryptionPlugin = definePlugin({
  id: 'w9-encryption',
  version: '0.1.0',
  kernel: '^0.1.0',
  description: 'W-9 tax forms encrypted at rest, revealed to admins on the record',
  requires: { auth: authServiceRef, audit: auditServiceRef },
  optional: { openapi: openApiServiceRef },
  config: w9ConfigSchema,
  fromEnv: w9ConfigFromEnv,
  validate: validateW9Config,
  secrets: ['encryptionKeys', 'indexKey'],
  // Censored by name in every log line of the kernel, whoever logs them.
  redact: ['tin', 'ssn', 'ein', 'tinDigits', 'signature'],
  problems: [w9Problems],
  tables: ['w9_encryption_forms'],
  migrations: w9Migrations,
  prefixes: ['/v1/w9', '/v1/admin/w9'],
  async init(ctx) {
    const log = tinMaskingLogger(ctx.logger);
    let { encryptionKeys, indexKey } = ctx.config;
    if (encryptionKeys === undefined || indexKey === undefined) {
      // Production never gets here (validate refuses it); `npm start` in development gets keys
      // the host generated in DATA_DIR. Anything else (a test kernel) gets keys of its own.
      log.warn('W9_ENCRYPTION_KEYS or W9_INDEX_KEY is not set: W-9 forms stored by this process cannot be read by any other');
      encryptionKeys ??= `ephemeral:${randomKey()}`;
      indexKey ??= randomKey();
    }
    const [ring, index] = await Promise.all([importKeyRing(encryptionKeys), createBlindIndex(indexKey)]);
    ctx.services.openapi?.nameSchemas(namedW9Schemas);
    let reported = '';
    const reportMissing = (missing: ReadonlyMap<string, number>) => {
      const now = missing.size === 0 ? '' : describeMissing(missing);
      if (now !== reported && now !== '') log.error({ keys: [...missing.keys()] }, now);
      reported = now;
    };
    const state: W9State = { cipher: new FieldCipher(ring), index, store: new FormStore(), log, reportMissing };
    return { state };
  },
  routes(router, ctx) {
    registerW9Routes(router, ctx);
  },
  health: {
    // Degraded, not failed, while some form is sealed under a key the ring lacks: those forms
    // cannot be revealed, but logins, uploads and every other W-9 still work, so the instance
    // stays in rotation; `empulse check` exits 1 for it. The log says which keys, once per change.
    async 'w9-keys'(ctx) {
      const missing = await missingKeys(ctx.db.em(), ctx.state.store, ctx.state.cipher);
      ctx.state.reportMissing(missing);
      return missing.size > 0 ? { degraded: summariseMissing(missing) } : undefined;
    },
  },
  async start(ctx) {
    ctx.state.reportMissing(await missingKeys(ctx.db.em(), ctx.state.store, ctx.state.cipher));
  },
  commands: {
    'w9 rotate-keys': {
      description: 're-encrypt every W-9 form not under the first key of W9_ENCRYPTION_KEYS, in small batches, while the service runs',
      async run(ctx, args, io) {
        if (args.length > 0) {
          io.err('usage: empulse w9 rotate-keys (no arguments)');
          return 2;
        }
        const { cipher, store } = ctx.state;
        return rotateKeysCommand({ db: ctx.db, store, cipher, batchSize: ctx.config.rotationBatchSize, signal: ctx.shutdownSignal }, io);
      },
    },
  },
});

