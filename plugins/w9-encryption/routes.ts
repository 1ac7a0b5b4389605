/** The w9-encryption plugin's HTTP surface (API.md, "w9-encryption plugin"). */
import { coreProblems, type PluginRouter } from '../../core/index.ts';
import { requiresRole } from '../auth/contract.ts';
import type { RevealedW9 } from './contract.ts';
import type { W9RouteContext } from './context.ts';
import { SealedValueError } from './field-cipher.ts';
import { iso, maskForm, openForm, sealForm } from './form-seal.ts';
import type { FormRow } from './form-store.ts';
import { w9Problems } from './problems.ts';
import { maskTinIn } from './tin.ts';
import { MaskedW9, PutW9Body, RevealBody, RevealedW9 as RevealedW9Schema, SearchBody, SearchResult } from './schemas.ts';

// Tax forms are never cached, by the browser or anything between.
const NO_STORE = { 'Cache-Control': 'no-store' };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** How many matching user ids a search's audit entry lists. */
const AUDITED_MATCHES = 50;

export function registerW9Routes(router: PluginRouter, ctx: W9RouteContext): void {
  /** Opens a stored form, or answers 500 w9_undecryptable saying why (and logs it), never a wrong value. */
  const open = async (row: FormRow): Promise<RevealedW9> => {
    try {
      return await openForm(ctx.state.cipher, row);
    } catch (err) {
      if (!(err instanceof SealedValueError)) throw err;
      ctx.state.log.error({ formId: row.id, userId: row.user_id, problem: err.problem, keyId: err.keyId }, `a stored W-9 does not open: ${err.message}`);
      const why =
        err.problem === 'unknown_key' ? `it is sealed under key "${err.keyId}", which W9_ENCRYPTION_KEYS lacks`
        : 'a sealed value does not verify (it was altered in the database, or moved from another row)';
      throw w9Problems.w9_undecryptable(`This W-9 cannot be decrypted: ${why}.`);
    }
  };

  router.put(
    '/v1/w9',
    {
      auth: 'required',
      body: PutW9Body,
      summary: "Submit the caller's W-9",
      description:
        'Stores a new W-9 for the caller; the previous one, if any, is kept encrypted for the record. The TIN, the address and the signature are encrypted at rest (AES-256-GCM, bound to their row and column). ' +
        'TINs are validated (SSN: area not 000, 666 or 900-999, group not 00, serial not 0000; EIN: a prefix the IRS issues); a bad one answers 422 validation_failed with path "tin", never quoting it. ' +
        'signedAt is an ISO 8601 date or date-time, not in the future. The answer is masked.',
      responses: { 200: { description: 'The form as stored, masked', body: MaskedW9 } },
      problems: ['unauthenticated', 'w9_undecryptable'],
    },
    async (http) => {
      const principal = await ctx.services.auth.requireUser(http);
      const row = await sealForm(ctx.state.cipher, ctx.state.index, principal.user.id, http.state.body);
      const stored = await ctx.db.transactional((em) => ctx.state.store.replace(em, row));
      http.set(NO_STORE);
      http.body = maskForm(await open(stored));
    },
  );

  router.get(
    '/v1/w9',
    {
      auth: 'required',
      summary: "The caller's W-9, masked",
      description: 'The TIN shows its last four digits only, the address its city, state and postal code (street lines as ***); the signature is not shown.',
      responses: { 200: { description: 'The current form, masked', body: MaskedW9 } },
      problems: ['unauthenticated', 'not_found', 'w9_undecryptable'],
    },
    async (http) => {
      const principal = await ctx.services.auth.requireUser(http);
      const row = await ctx.state.store.current(http.state.em, principal.user.id);
      if (!row) throw coreProblems.not_found('You have not submitted a W-9 yet: PUT /v1/w9 to submit one.');
      http.set(NO_STORE);
      http.body = maskForm(await open(row));
    },
  );

  router.post(
    '/v1/admin/w9/:userId/reveal',
    {
      auth: 'required',
      meta: [requiresRole('admin')],
      body: RevealBody,
      summary: "Reveal a user's W-9 in full (admin, audited)",
      description:
        'Decrypts the current form, with its TIN, address and signature, and records one audit entry (w9.revealed, with the reason; the entry holds no TIN) in the same transaction: no reveal without its entry.',
      responses: { 200: { description: 'The form in full', body: RevealedW9Schema } },
      problems: ['unauthenticated', 'forbidden', 'not_found', 'w9_undecryptable'],
    },
    async (http) => {
      const admin = await ctx.services.auth.requireRole(http, 'admin');
      const userId = http.params.userId!;
      if (!UUID.test(userId)) throw coreProblems.not_found('This user has no W-9.');
      const { reason } = http.state.body;
      const form = await ctx.db.transactional(async (em) => {
        const row = await ctx.state.store.current(em, userId);
        if (!row) throw coreProblems.not_found('This user has no W-9.');
        const opened = await open(row);
        await ctx.services.audit.record(
          {
            ...ctx.services.audit.requestActor(http, admin.user.id),
            action: 'w9.revealed',
            targetType: 'w9',
            targetId: userId,
            // The record keeps the reason, never a TIN typed into it.
            reason: maskTinIn(reason, opened.tin, opened.tinType),
            details: { formId: row.id, tinType: row.tin_type },
          },
          { em },
        );
        return opened;
      });
      http.set(NO_STORE);
      http.body = form;
    },
  );

  router.post(
    '/v1/admin/w9/search',
    {
      auth: 'required',
      meta: [requiresRole('admin')],
      body: SearchBody,
      summary: 'Find the users whose current W-9 holds a TIN (admin, audited)',
      description:
        'Looks the TIN up through its keyed blind index, without decrypting any form, and records one audit entry (w9.searched, with the reason and the users found; never the TIN) in the same transaction. ' +
        'Differs from API.md, which shows { tin } only: like a reveal, a search needs a reason.',
      responses: { 200: { description: 'Every current form holding the TIN, oldest first', body: SearchResult } },
      problems: ['unauthenticated', 'forbidden'],
    },
    async (http) => {
      const admin = await ctx.services.auth.requireRole(http, 'admin');
      const { tin, reason } = http.state.body;
      const tinIndex = await ctx.state.index.of(tin);
      const items = await ctx.db.transactional(async (em) => {
        const rows = await ctx.state.store.search(em, tinIndex);
        await ctx.services.audit.record(
          {
            ...ctx.services.audit.requestActor(http, admin.user.id),
            action: 'w9.searched',
            targetType: 'w9',
            targetId: null,
            reason: maskTinIn(reason, tin, 'ssn'),
            details: { matches: rows.length, userIds: rows.slice(0, AUDITED_MATCHES).map((r) => r.user_id) },
          },
          { em },
        );
        return rows.map((r) => ({ userId: r.user_id, legalName: r.legal_name, tinType: r.tin_type, updatedAt: iso(r.created_at) }));
      });
      http.set(NO_STORE);
      http.body = { items };
    },
  );
}
