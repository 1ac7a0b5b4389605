/**
 * The w9-encryption plugin through HTTP, on real PostgreSQL with the real auth, email (SMTP to a
 * test mailbox), audit, health and openapi plugins (API.md, "w9-encryption plugin"). The crypto
 * alone is covered by w9-crypto.test.ts; this file checks what only the whole plugin can show:
 * the masked round trip and its replacement, TIN validation that never echoes the TIN, 401/403/
 * 404/422 on every route, audited reveal and blind-index search (one entry each, no TIN in it),
 * a database dump, the log lines and the OpenAPI document free of every TIN, address and
 * signature used, and stored rows tampered with or moved through SQL refusing to open (500
 * w9_undecryptable, no audit entry, readiness failing for a key the ring lacks).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Response } from 'light-my-request';
import { configure, type SqlExecutor } from '../core/index.ts';
import { createTestKernel, type TestKernel } from '../host/testing.ts';
import { auditPlugin } from '../plugins/audit/index.ts';
import { authServiceRef } from '../plugins/auth/contract.ts';
import { authPlugin } from '../plugins/auth/index.ts';
import { emailPlugin } from '../plugins/email/index.ts';
import { healthPlugin } from '../plugins/health/index.ts';
import { openApiPlugin } from '../plugins/openapi/index.ts';
import { w9EncryptionPlugin } from '../plugins/w9-encryption/index.ts';
import { captureLogger } from './support/capture-logger.ts';
import { expectProblem } from './support/expect-problem.ts';
import { signedInUser, type SignedInUser } from './support/accounts.ts';
import { startMailbox, type Mailbox } from './support/mailbox.ts';

const APP = 'https://app.empulse.test';
const JWT_SECRET = 'w9-test-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const PASSWORD = 'correct horse battery staple';
// Keys of this file's own: the ring has one key, "k1", so any other id is one it lacks.
const ENCRYPTION_KEYS = `k1:${randomBytes(32).toString('base64')}`;
const INDEX_KEY = randomBytes(32).toString('base64');
const FORMS = 'w9_encryption_forms';
const NO_FORM_ID = '01890000-0000-7000-8000-000000000000';

// Distinctive clear values: none of them may appear at rest, in a log line or in an audit entry.
const LINE1 = '742 Evergreen Terrace Unit-Q7';
const LINE2 = 'Mezzanine Zeta-Kappa';
const CITY = 'Springfieldia Quorvex';
const SIGNATURE = '/s/ Marguerite Zanzibar-Oyelaran';

type User = SignedInUser;

interface MaskedW9 {
  legalName: string;
  businessName: string | null;
  taxClassification: string;
  tinType: 'ssn' | 'ein';
  tin: string;
  address: { line1: string; line2: string | null; city: string; state: string; postalCode: string };
  signedAt: string;
  updatedAt: string;
  signature?: unknown;
  userId?: unknown;
}

interface RevealedW9 extends MaskedW9 {
  userId: string;
  signature: string;
}

interface FormRow {
  id: string;
  user_id: string;
  legal_name: string;
  tax_classification: string;
  tin_type: string;
  tin_index: string;
  signed_at: string;
  tin_sealed: string;
  address_sealed: string;
  signature_sealed: string;
  key_id: string;
  superseded_at: Date | string | null;
}

/** Every TIN this file sends (valid or not), as nine digits: searched for in logs and dumps. */
const tinsSent = new Set<string>();
/** The TINs this file stores: searched for in the database dump. */
const tinsStored = new Set<string>();

/** The digits and the hyphenated and spaced spellings of a TIN. */
function spellings(digits: string): string[] {
  return [digits, `${digits.slice(0, 3)}-${digits.slice(3, 5)}-${digits.slice(5)}`, `${digits.slice(0, 2)}-${digits.slice(2)}`, `${digits.slice(0, 3)} ${digits.slice(3, 5)} ${digits.slice(5)}`];
}

/**
 * The spellings of `digits` found in `text` as whole numbers (not inside a longer run of digits,
 * such as a millisecond timestamp, where nine digits can turn up by chance).
 */
function tinsIn(text: string, digits: Iterable<string>): string[] {
  const found: string[] = [];
  for (const d of digits) {
    for (const s of spellings(d)) {
      if (new RegExp(`(?<!\\d)${s}(?!\\d)`).test(text)) found.push(s);
    }
  }
  return found;
}

let signatures = 0;
/** A valid form with `tin`; every form gets the distinctive address and a signature of its own. */
function form(tin: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const n = ++signatures;
  return {
    legalName: `Legal Name ${n}`,
    businessName: null,
    taxClassification: 'individual',
    tin,
    tinType: 'ssn',
    address: { line1: `${LINE1} #${n}`, city: CITY, state: 'OR', postalCode: '97403' },
    signature: `${SIGNATURE} ${n}`,
    signedAt: '2024-03-15T09:30:00+02:00',
    ...overrides,
  };
}

const digitsOf = (tin: unknown) => (typeof tin === 'number' ? String(tin) : String(tin).replace(/[\s-]/g, ''));

describe('w9-encryption plugin', () => {
  let mailbox: Mailbox;
  let t: TestKernel;
  let admin: User;
  let users = 0;
  const logs = captureLogger('debug');

  before(async () => {
    mailbox = await startMailbox();
    t = await createTestKernel({
      plugins: [
        authPlugin,
        configure(emailPlugin, { transport: 'smtp', smtpUrl: mailbox.url, publicAppUrl: APP, pollIntervalMs: 50, retryBaseDelayMs: 20 }),
        auditPlugin,
        configure(healthPlugin, { readinessCacheMs: 0 }),
        openApiPlugin,
        configure(w9EncryptionPlugin, { encryptionKeys: ENCRYPTION_KEYS, indexKey: INDEX_KEY }),
      ],
      env: { JWT_SECRET },
      logger: logs.logger,
    });
    admin = await newAdmin('admin');
  });
  after(async () => {
    await t?.close();
    await mailbox?.close();
  });

  const sql = (): SqlExecutor => t.kernel.database.orm.em.getConnection();
  const rows = async <T>(query: string, params: unknown[] = []) => (await sql().execute(query, params, 'all')) as T[];

  /** A verified, logged-in user with the default role (artist). */
  const newUser = (label: string): Promise<User> =>
    signedInUser(t, mailbox, { email: `${label}-${++users}@example.test`, password: PASSWORD, displayName: `User ${users}`, appUrl: APP });

  /** A user made admin through auth's service (roles are read per request: the token stays valid). */
  async function newAdmin(label: string): Promise<User> {
    const user = await newUser(label);
    const auth = t.service(authServiceRef);
    const result = await t.kernel.database.transactional((em) => auth.setRole(user.id, 'admin', { em }));
    assert.equal(result.outcome, 'changed');
    return user;
  }

  const put = (user: User | undefined, payload: unknown) => {
    const tin = (payload as { tin?: unknown } | undefined)?.tin;
    if (tin !== undefined) tinsSent.add(digitsOf(tin));
    return t.inject({ method: 'PUT', url: '/v1/w9', ...(user && { headers: user.headers }), payload: payload as object });
  };
  const get = (user: User | undefined) => t.inject({ method: 'GET', url: '/v1/w9', ...(user && { headers: user.headers }) });
  const reveal = (by: User | undefined, userId: string, payload: unknown = { reason: 'annual 1099 filing' }) =>
    t.inject({ method: 'POST', url: `/v1/admin/w9/${userId}/reveal`, ...(by && { headers: by.headers }), ...(payload !== undefined && { payload: payload as object }) });
  const search = (by: User | undefined, payload: unknown) => {
    const tin = (payload as { tin?: unknown } | undefined)?.tin;
    if (tin !== undefined) tinsSent.add(digitsOf(tin));
    return t.inject({ method: 'POST', url: '/v1/admin/w9/search', ...(by && { headers: by.headers }), ...(payload !== undefined && { payload: payload as object }) });
  };

  /** A fresh user with a stored form holding `tin`. */
  async function withForm(label: string, tin: string, overrides: Record<string, unknown> = {}): Promise<User> {
    const user = await newUser(label);
    const res = await put(user, form(tin, overrides));
    assert.equal(res.statusCode, 200, res.body);
    tinsStored.add(digitsOf(tin));
    return user;
  }

  const formRows = (userId: string) =>
    rows<FormRow>(
      `select id, user_id, legal_name, tax_classification, tin_type, tin_index, to_json(signed_at) #>> '{}' as signed_at, tin_sealed, address_sealed,
         signature_sealed, key_id, superseded_at from ${FORMS} where user_id = ? order by created_at, id`,
      [userId],
    );
  const currentRow = async (userId: string) => {
    const current = (await formRows(userId)).filter((r) => r.superseded_at === null);
    assert.equal(current.length, 1, 'one current form');
    return current[0]!;
  };
  /**
   * Writes the given columns of a row (all its sealed ones at once when relabelling: the check
   * constraint wants every sealed value under key_id).
   */
  const writeRow = (row: { id: string } & Partial<Omit<FormRow, 'superseded_at'>>) => {
    const columns = Object.keys(row).filter((c) => c !== 'id' && c !== 'superseded_at') as (keyof typeof row)[];
    return sql().execute(`update ${FORMS} set ${columns.map((c) => `${c} = ?`).join(', ')} where id = ?`, [...columns.map((c) => row[c]), row.id], 'run');
  };

  const auditCount = async (action: string, targetId?: string) =>
    Number(
      (
        (await sql().execute(
          `select count(*) as n from audit_entries where action = ?${targetId === undefined ? '' : ' and target_id = ?'}`,
          targetId === undefined ? [action] : [action, targetId],
          'get',
        )) as { n: string | number }
      ).n,
    );

  /** `res` is a 422 naming `path`, and its raw body quotes none of the TINs sent with it. */
  function expectInvalid(res: Response, path: string, tins: readonly string[] = []): void {
    const body = expectProblem(res, 422, 'validation_failed');
    assert.ok(body.errors?.some((e) => e.path === path), `an error on "${path}": ${res.body}`);
    for (const tin of tins) {
      for (const s of [tin, ...spellings(digitsOf(tin))]) assert.ok(!res.body.includes(s), `the 422 body quotes "${s}": ${res.body}`);
    }
  }

  /** A sealed value with one character of part `index` (2: the IV, 3: ciphertext and tag) changed. */
  function alter(sealed: string, index: number): string {
    const parts = sealed.split('.');
    const part = parts[index]!;
    const at = Math.floor(part.length / 2);
    parts[index] = part.slice(0, at) + (part[at] === 'A' ? 'B' : 'A') + part.slice(at + 1);
    return parts.join('.');
  }

  /** A reveal that fails as w9_undecryptable, leaving no audit entry and no TIN in its body. */
  async function expectUndecryptable(user: User, tin: string): Promise<string> {
    const before = await auditCount('w9.revealed', user.id);
    const res = await reveal(admin, user.id);
    const body = expectProblem(res, 500, 'w9_undecryptable');
    assert.deepEqual(tinsIn(res.body, [digitsOf(tin)]), [], res.body);
    assert.ok(!res.body.includes(LINE1) && !res.body.includes(SIGNATURE), res.body);
    assert.equal(await auditCount('w9.revealed', user.id), before, 'a failed reveal is not audited');
    // The owner's own view refuses it too, rather than showing a wrong value.
    expectProblem(await get(user), 500, 'w9_undecryptable');
    return String(body.detail ?? '');
  }

  describe('storing and reading', () => {
    it('stores a W-9 and answers it masked, with no-store, on PUT and on GET; 404 before any', async () => {
      const user = await newUser('round-trip');
      expectProblem(await get(user), 404, 'not_found');

      const payload = form('123-45-6789', { businessName: 'Quorvex Records LLC', address: { line1: `${LINE1} rt`, line2: LINE2, city: CITY, state: 'OR', postalCode: '97403' } });
      const res = await put(user, payload);
      tinsStored.add('123456789');
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.headers['cache-control'], 'no-store');
      const masked = res.json() as MaskedW9;
      assert.equal(masked.tin, '***-**-6789');
      assert.equal(masked.tinType, 'ssn');
      assert.equal(masked.legalName, payload.legalName);
      assert.equal(masked.businessName, 'Quorvex Records LLC');
      assert.equal(masked.taxClassification, 'individual');
      assert.deepEqual(masked.address, { line1: '***', line2: '***', city: CITY, state: 'OR', postalCode: '97403' });
      assert.equal(masked.signedAt, '2024-03-15T07:30:00.000Z', 'signedAt in ISO 8601 UTC');
      assert.ok(!Number.isNaN(Date.parse(masked.updatedAt)) && masked.updatedAt.endsWith('Z'));
      assert.ok(!('signature' in masked), 'no signature in the masked form');
      assert.ok(!('userId' in masked));
      assert.deepEqual(tinsIn(res.body, ['123456789']), []);
      assert.ok(!res.body.includes(LINE1) && !res.body.includes(LINE2) && !res.body.includes(SIGNATURE));

      const again = await get(user);
      assert.equal(again.statusCode, 200, again.body);
      assert.equal(again.headers['cache-control'], 'no-store');
      assert.deepEqual(again.json(), masked);
    });

    it('masks an EIN as **-***NNNN, a null line2 stays null, and a bare date is UTC midnight', async () => {
      const user = await newUser('ein');
      const res = await put(user, form('45-2718281', { tinType: 'ein', taxClassification: 'c_corporation', signedAt: '2024-02-29' }));
      tinsStored.add('452718281');
      assert.equal(res.statusCode, 200, res.body);
      const masked = res.json() as MaskedW9;
      assert.equal(masked.tin, '**-***8281');
      assert.equal(masked.tinType, 'ein');
      assert.equal(masked.taxClassification, 'c_corporation');
      assert.equal(masked.address.line1, '***');
      assert.equal(masked.address.line2, null);
      assert.equal(masked.signedAt, '2024-02-29T00:00:00.000Z');
      assert.deepEqual((await get(user)).json(), masked);
      // A blank second line or business name is none at all, not a masked "***".
      const blank = await put(user, form('45-2718281', { tinType: 'ein', businessName: '  ', address: { line1: `${LINE1} bl`, line2: '   ', city: CITY, state: 'OR', postalCode: '97403' } }));
      assert.equal(blank.statusCode, 200, blank.body);
      assert.equal((blank.json() as MaskedW9).address.line2, null);
      assert.equal((blank.json() as MaskedW9).businessName, null);
    });

    it('replaces the form on a second PUT and keeps the first one, superseded and sealed', async () => {
      const user = await withForm('replace', '234-56-7801');
      const first = await currentRow(user.id);
      const res = await put(user, form('345 67 8012', { legalName: 'Second Legal Name', tinType: 'ssn' }));
      tinsStored.add('345678012');
      assert.equal(res.statusCode, 200, res.body);
      assert.equal((res.json() as MaskedW9).tin, '***-**-8012');

      const shown = (await get(user)).json() as MaskedW9;
      assert.equal(shown.tin, '***-**-8012');
      assert.equal(shown.legalName, 'Second Legal Name');

      const all = await formRows(user.id);
      assert.equal(all.length, 2, 'both forms are kept');
      assert.equal(all[0]!.id, first.id);
      assert.notEqual(all[0]!.superseded_at, null, 'the first form is superseded');
      assert.equal(all[1]!.superseded_at, null, 'the second is current');
      const dump = await rows<{ j: string }>(`select to_jsonb(f)::text as j from ${FORMS} f where user_id = ?`, [user.id]);
      for (const row of all) {
        for (const value of [row.tin_sealed, row.address_sealed, row.signature_sealed]) assert.match(value, /^v1\.k1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
        assert.equal(row.key_id, 'k1');
      }
      for (const { j } of dump) {
        assert.deepEqual(tinsIn(j, ['234567801', '345678012']), [], j);
        assert.ok(!j.includes(LINE1) && !j.includes(CITY) && !j.includes(SIGNATURE), j);
      }
    });
  });

  describe('validation', () => {
    it('refuses invalid TINs with 422 on "tin", never quoting them, and writes nothing', async () => {
      const user = await newUser('bad-tin');
      const cases: [tin: unknown, tinType: 'ssn' | 'ein'][] = [
        ['000-12-3456', 'ssn'], // area 000
        ['666-12-3456', 'ssn'], // area 666
        ['912-34-5678', 'ssn'], // area 9xx
        ['987654321', 'ssn'],
        ['123-00-4567', 'ssn'], // group 00
        ['123-45-0000', 'ssn'], // serial 0000
        ['07-1234567', 'ein'], // prefix never issued
        ['89-1234567', 'ein'],
        ['12-345678', 'ein'], // eight digits
        ['123-45-67890', 'ssn'], // ten digits
        ['12345678a', 'ssn'],
        [123456789, 'ssn'], // a number, not a string
      ];
      for (const [tin, tinType] of cases) {
        const res = await put(user, form(tin as string, { tinType }));
        expectInvalid(res, 'tin', [String(tin)]);
      }
      assert.equal((await formRows(user.id)).length, 0, 'nothing is stored on 422');
      expectProblem(await get(user), 404, 'not_found');
    });

    it('refuses a missing signature, a bad taxClassification and a future signedAt on their paths, without quoting the TIN', async () => {
      const user = await newUser('bad-fields');
      const tin = '321-54-9876';
      const { signature: _omitted, ...noSignature } = form(tin);
      const future = new Date(Date.now() + 3 * 24 * 3600 * 1000).toISOString();
      const cases: [payload: unknown, path: string][] = [
        [noSignature, 'signature'],
        [form(tin, { signature: '' }), 'signature'],
        [form(tin, { taxClassification: 'sole_trader' }), 'taxClassification'],
        [form(tin, { signedAt: future }), 'signedAt'],
        [form(tin, { signedAt: 'yesterday' }), 'signedAt'],
        [form(tin, { tinType: 'itin' }), 'tinType'],
      ];
      for (const [payload, path] of cases) expectInvalid(await put(user, payload), path, [tin]);
      assert.equal((await formRows(user.id)).length, 0, 'nothing is stored on 422');
    });
  });

  describe('authentication and roles', () => {
    it('answers 401 without a token on all four routes', async () => {
      const target = await withForm('anon-target', '412-34-5670');
      for (const res of [
        await put(undefined, form('412-34-5670')),
        await get(undefined),
        await reveal(undefined, target.id),
        await search(undefined, { tin: '412-34-5670', reason: 'lookup' }),
      ]) {
        expectProblem(res, 401, 'unauthenticated');
        assert.deepEqual(tinsIn(res.body, ['412345670']), []);
      }
      assert.equal((await formRows(target.id)).length, 1, 'the anonymous PUT stored nothing');
    });

    it('answers 403 to an artist on reveal and search, and audits nothing', async () => {
      const artist = await withForm('artist', '423-45-6781');
      const revealed = await auditCount('w9.revealed');
      const searched = await auditCount('w9.searched');
      expectProblem(await reveal(artist, artist.id), 403, 'forbidden');
      expectProblem(await reveal(artist, artist.id, {}), 403, 'forbidden');
      const res = await search(artist, { tin: '423-45-6781', reason: 'curious' });
      expectProblem(res, 403, 'forbidden');
      assert.deepEqual(tinsIn(res.body, ['423456781']), []);
      assert.equal(await auditCount('w9.revealed'), revealed);
      assert.equal(await auditCount('w9.searched'), searched);
    });

    it('needs a reason to reveal (422 on "reason"), and answers 404 for a user without a form or a bad id', async () => {
      const user = await withForm('no-reason', '434-56-7892');
      const before = await auditCount('w9.revealed', user.id);
      for (const payload of [{}, { reason: '' }, { reason: '   ' }, { reason: 42 }]) expectInvalid(await reveal(admin, user.id, payload), 'reason', ['434-56-7892']);
      assert.equal(await auditCount('w9.revealed', user.id), before, 'a refused reveal is not audited');

      const noForm = await newUser('no-form');
      expectProblem(await reveal(admin, noForm.id), 404, 'not_found');
      expectProblem(await reveal(admin, NO_FORM_ID), 404, 'not_found');
      expectProblem(await reveal(admin, 'not-a-uuid'), 404, 'not_found');
      assert.equal(await auditCount('w9.revealed', noForm.id), 0);
    });
  });

  describe('reveal', () => {
    it('reveals the full form to an admin with a reason, one w9.revealed entry per reveal, none holding the TIN', async () => {
      const address = { line1: `${LINE1} rv`, line2: LINE2, city: CITY, state: 'OR', postalCode: '97403' };
      const payload = form('531-42-8675', { address });
      const user = await newUser('revealed');
      assert.equal((await put(user, payload)).statusCode, 200);
      tinsStored.add('531428675');
      const formId = (await currentRow(user.id)).id;

      const before = await auditCount('w9.revealed', user.id);
      const res = await reveal(admin, user.id, { reason: 'Annual 1099-NEC filing' });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.headers['cache-control'], 'no-store');
      const full = res.json() as RevealedW9;
      assert.equal(full.userId, user.id);
      assert.equal(full.tin, '531428675', 'the nine digits, hyphens dropped');
      assert.equal(full.tinType, 'ssn');
      assert.deepEqual(full.address, address);
      assert.equal(full.signature, payload.signature);
      assert.equal(full.legalName, payload.legalName);
      assert.equal(full.signedAt, '2024-03-15T07:30:00.000Z');
      assert.equal(await auditCount('w9.revealed', user.id), before + 1, 'one entry per reveal');

      assert.equal((await reveal(admin, user.id, { reason: 'Second look, state filing' })).statusCode, 200);
      assert.equal(await auditCount('w9.revealed', user.id), before + 2, 'a second reveal, a second entry');

      const entries = await rows<{ actor_id: string; target_type: string; reason: string; details: Record<string, unknown>; j: string }>(
        `select actor_id, target_type, reason, details, to_jsonb(a)::text as j from audit_entries a where action = 'w9.revealed' and target_id = ? order by seq`,
        [user.id],
      );
      assert.deepEqual(
        entries.map((e) => e.reason),
        ['Annual 1099-NEC filing', 'Second look, state filing'],
      );
      for (const e of entries) {
        assert.equal(e.actor_id, admin.id);
        assert.equal(e.target_type, 'w9');
        assert.deepEqual(e.details, { formId, tinType: 'ssn' });
        assert.deepEqual(tinsIn(e.j, ['531428675']), [], e.j);
        assert.ok(!e.j.includes(LINE1) && !e.j.includes(CITY) && !e.j.includes(SIGNATURE), e.j);
      }
    });
  });

  describe('search', () => {
    it('finds every current form with a TIN through the blind index, however it is spelled, and audits each search', async () => {
      const shared = '456-78-9123';
      const first = await withForm('same-tin-a', '456789123');
      const second = await withForm('same-tin-b', shared);
      const other = await withForm('other-tin', '567-89-1234');
      const moved = await withForm('moved-tin', shared);
      // `moved` replaces its form with another TIN: only current forms are searched.
      assert.equal((await put(moved, form('678-91-2345'))).statusCode, 200);
      tinsStored.add('678912345');

      for (const spelling of [shared, '456789123', '456 78 9123']) {
        const before = await auditCount('w9.searched');
        const res = await search(admin, { tin: spelling, reason: 'duplicate TIN review' });
        assert.equal(res.statusCode, 200, res.body);
        assert.equal(res.headers['cache-control'], 'no-store');
        const { items } = res.json() as { items: { userId: string; legalName: string; tinType: string; updatedAt: string }[] };
        assert.deepEqual(
          items.map((i) => i.userId),
          [first.id, second.id],
          'both holders, oldest first; not the other TIN, not the replaced form',
        );
        assert.ok(items.every((i) => i.tinType === 'ssn' && i.legalName.startsWith('Legal Name ') && !Number.isNaN(Date.parse(i.updatedAt))));
        assert.deepEqual(tinsIn(res.body, ['456789123']), []);
        assert.equal(await auditCount('w9.searched'), before + 1, 'one entry per search');
        const [entry] = await rows<{ actor_id: string; target_type: string; target_id: string | null; reason: string; details: Record<string, unknown>; j: string }>(
          `select actor_id, target_type, target_id, reason, details, to_jsonb(a)::text as j from audit_entries a where action = 'w9.searched' order by seq desc limit 1`,
        );
        assert.equal(entry!.actor_id, admin.id);
        assert.equal(entry!.target_type, 'w9');
        assert.equal(entry!.target_id, null);
        assert.equal(entry!.reason, 'duplicate TIN review');
        assert.deepEqual(entry!.details, { matches: 2, userIds: [first.id, second.id] });
        assert.deepEqual(tinsIn(entry!.j, ['456789123']), [], entry!.j);
      }

      const others = (await search(admin, { tin: '567891234', reason: 'review' })).json() as { items: { userId: string }[] };
      assert.deepEqual(others.items.map((i) => i.userId), [other.id]);
      const current = (await search(admin, { tin: '678-91-2345', reason: 'review' })).json() as { items: { userId: string }[] };
      assert.deepEqual(current.items.map((i) => i.userId), [moved.id], 'the replacement TIN finds its user');
      const none = await search(admin, { tin: '589-12-3467', reason: 'review' });
      assert.equal(none.statusCode, 200);
      assert.deepEqual(none.json(), { items: [] });
    });

    it('needs a reason and a nine-digit TIN to search (422), and audits nothing then', async () => {
      const before = await auditCount('w9.searched');
      for (const payload of [{ tin: '456-78-9123' }, { tin: '456-78-9123', reason: '' }, { tin: '456-78-9123', reason: ' \t ' }]) {
        expectInvalid(await search(admin, payload), 'reason', ['456-78-9123']);
      }
      for (const payload of [{ reason: 'review' }, { tin: '45-678-912', reason: 'review' }, { tin: 456789123, reason: 'review' }]) {
        expectInvalid(await search(admin, payload), 'tin', payload.tin === undefined ? [] : [String(payload.tin)]);
      }
      assert.equal(await auditCount('w9.searched'), before);
    });
  });

  describe('tampered and moved rows', () => {
    it('refuses a ciphertext with one character changed: 500 w9_undecryptable, logged, not audited', async () => {
      const tin = '612-34-5678';
      const user = await withForm('tamper-data', tin);
      const row = await currentRow(user.id);
      await writeRow({ ...row, tin_sealed: alter(row.tin_sealed, 3) });
      const detail = await expectUndecryptable(user, tin);
      assert.match(detail, /does not verify/);
      const line = logs.lines.find((l) => l.level === 'error' && l.formId === row.id);
      assert.ok(line, 'the failure is logged as an error with the form id');
      assert.deepEqual(tinsIn(JSON.stringify(line), ['612345678']), []);
      await writeRow(row);
      assert.equal((await reveal(admin, user.id)).statusCode, 200, 'restored, it opens again');
    });

    it('refuses an altered IV', async () => {
      const tin = '623-45-6780';
      const user = await withForm('tamper-iv', tin);
      const row = await currentRow(user.id);
      await writeRow({ ...row, address_sealed: alter(row.address_sealed, 2) });
      await expectUndecryptable(user, tin);
      await writeRow(row);
      assert.equal((await reveal(admin, user.id)).statusCode, 200);
    });

    it('names a key the ring lacks in the answer and the log; readiness stays up with "w9-keys" degraded, by counts only', async () => {
      const ready = await t.inject({ url: '/health/ready' });
      assert.equal(ready.statusCode, 200, ready.body);
      const tin = '634-56-7891';
      const user = await withForm('unknown-key', tin);
      const row = await currentRow(user.id);
      const relabel = (sealed: string) => sealed.replace(/^v1\.k1\./, 'v1.retired9.');
      await writeRow({ id: row.id, key_id: 'retired9', tin_sealed: relabel(row.tin_sealed), address_sealed: relabel(row.address_sealed), signature_sealed: relabel(row.signature_sealed) });
      try {
        const detail = await expectUndecryptable(user, tin);
        assert.match(detail, /"retired9"/, 'the answer names the missing key');
        const res = await t.inject({ url: '/health/ready' });
        // The rest of the API still serves: the instance stays ready, and says what is wrong.
        assert.equal(res.statusCode, 200, res.body);
        const body = res.json() as { status: string; checks: Record<string, { status: string; error?: string }> };
        assert.equal(body.checks['w9-keys']?.status, 'degraded');
        assert.match(String(body.checks['w9-keys']?.error), /^1 W-9 form\(s\) are sealed under 1 key\(s\) that W9_ENCRYPTION_KEYS lacks/);
        assert.doesNotMatch(res.body, /retired9/, 'the public body names no key');
        const logged = logs.lines.filter((l) => l.level === 'error' && Array.isArray(l.keys) && (l.keys as string[]).includes('retired9'));
        assert.equal(logged.length, 1, 'the log names the key, once for this state');
        assert.equal((await t.inject({ url: '/health/ready' })).statusCode, 200);
        assert.equal(logs.lines.filter((l) => Array.isArray(l.keys) && (l.keys as string[]).includes('retired9')).length, 1, 'not again on the next probe');
      } finally {
        await writeRow(row);
      }
      const restored = await t.inject({ url: '/health/ready' });
      assert.equal(restored.statusCode, 200, restored.body);
      assert.equal((restored.json() as { checks: Record<string, { status: string }> }).checks['w9-keys']?.status, 'ok');
      assert.equal((await reveal(admin, user.id)).statusCode, 200);
    });

    it('refuses a row handed to another user, or relabelled in its clear columns (bound to them)', async () => {
      const tin = '678-12-3450';
      const owner = await withForm('handed-from', tin);
      const taker = await newUser('handed-to');
      const row = await currentRow(owner.id);
      await writeRow({ id: row.id, user_id: taker.id });
      try {
        const res = await reveal(admin, taker.id);
        expectProblem(res, 500, 'w9_undecryptable');
        assert.deepEqual(tinsIn(res.body, ['678123450']), []);
        assert.equal((await get(taker)).statusCode, 500, 'the taker does not see it as theirs either');
      } finally {
        await writeRow({ id: row.id, user_id: owner.id });
      }
      for (const change of [{ tin_type: 'ein' }, { legal_name: 'Someone Else' }, { tax_classification: 'llc' }, { signed_at: '2025-01-01T00:00:00Z' }, { tin_index: 'A'.repeat(43) }]) {
        await writeRow({ id: row.id, ...change });
        try {
          expectProblem(await reveal(admin, owner.id), 500, 'w9_undecryptable');
        } finally {
          await writeRow({ ...row });
        }
      }
      assert.equal((await reveal(admin, owner.id)).statusCode, 200, 'restored, it opens again');
    });

    it('keeps a TIN typed into the reason out of the audit entry', async () => {
      const tin = '689-23-4561';
      const user = await withForm('reason-tin', tin);
      for (const reason of ['payee 689 23 4561 asked', 'ssn:689-23-4561x', 'see 6.8.9.2.3.4.5.6.1', 'other 123 45 6789 too']) {
        const res = await t.inject({ method: 'POST', url: `/v1/admin/w9/${user.id}/reveal`, headers: admin.headers, payload: { reason } });
        assert.equal(res.statusCode, 200, res.body);
        const [entry] = await rows<{ reason: string }>(`select reason from audit_entries where action = 'w9.revealed' order by seq desc limit 1`);
        assert.ok(!/\d{3}\D{0,2}\d{2}\D{0,2}\d{4}/.test(entry!.reason.replace(/\*/g, '')), entry!.reason);
        assert.match(entry!.reason, /\*\*\*-\*\*-\d{4}/, 'masked to its last four digits');
      }
      const searched = await search(admin, { tin, reason: 'dup of 689-23-4561?' });
      assert.equal(searched.statusCode, 200);
      const [entry] = await rows<{ reason: string }>(`select reason from audit_entries where action = 'w9.searched' order by seq desc limit 1`);
      assert.equal(entry!.reason, 'dup of ***-**-4561?');
    });

    it("refuses a TIN copied from another user's row (bound to the row)", async () => {
      const a = await withForm('moved-from', '645-67-8902');
      const b = await withForm('moved-to', '656-78-9013');
      const rowA = await currentRow(a.id);
      const rowB = await currentRow(b.id);
      await writeRow({ ...rowB, tin_sealed: rowA.tin_sealed });
      await expectUndecryptable(b, '645-67-8902');
      await writeRow(rowB);
      const res = await reveal(admin, b.id);
      assert.equal(res.statusCode, 200);
      assert.equal((res.json() as RevealedW9).tin, '656789013');
    });

    it('refuses an address copied into the signature column of the same row (bound to the column)', async () => {
      const tin = '667-89-1024';
      const user = await withForm('moved-column', tin);
      const row = await currentRow(user.id);
      await writeRow({ ...row, signature_sealed: row.address_sealed });
      await expectUndecryptable(user, tin);
      await writeRow(row);
      assert.equal((await reveal(admin, user.id)).statusCode, 200);
    });
  });

  describe('what leaves the plugin', () => {
    it('documents the four routes in OpenAPI, with no TIN-shaped example', async () => {
      const res = await t.inject({ url: '/openapi.json' });
      assert.equal(res.statusCode, 200);
      const doc = res.json() as { paths: Record<string, Record<string, unknown>> };
      assert.deepEqual(Object.keys(doc.paths['/v1/w9'] ?? {}).filter((m) => ['get', 'put', 'post', 'delete', 'patch'].includes(m)).sort(), ['get', 'put']);
      assert.ok(doc.paths['/v1/admin/w9/{userId}/reveal']?.post, 'reveal is documented');
      assert.ok(doc.paths['/v1/admin/w9/search']?.post, 'search is documented');
      const tinShaped = /(?<![0-9A-Za-z])(?:\d{3}[- ]\d{2}[- ]\d{4}|\d{2}-\d{7}|\d{9})(?![0-9A-Za-z])/;
      const examples: unknown[] = [];
      const collect = (node: unknown): void => {
        if (node === null || typeof node !== 'object') return;
        for (const [key, value] of Object.entries(node)) {
          if (key === 'example' || key === 'examples') examples.push(value);
          collect(value);
        }
      };
      collect(doc);
      for (const example of examples) assert.doesNotMatch(JSON.stringify(example), tinShaped);
      // Nothing under the w9 paths looks like a TIN, example or not.
      const w9Paths = Object.entries(doc.paths).filter(([p]) => p.includes('/w9'));
      assert.equal(w9Paths.length, 3);
      assert.doesNotMatch(JSON.stringify(w9Paths), tinShaped);
      assert.deepEqual(tinsIn(res.body, tinsSent), []);
    });

    it('keeps no TIN, street line or signature anywhere in the database, audit entries included', async () => {
      // A form of this test's own, so the dump has something to find even when run alone.
      await withForm('at-rest', '678-12-3459', { address: { line1: `${LINE1} ar`, line2: LINE2, city: CITY, state: 'OR', postalCode: '97403' } });
      const tables = await rows<{ table_name: string }>(
        `select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by table_name`,
      );
      assert.ok(tables.some((r) => r.table_name === FORMS) && tables.some((r) => r.table_name === 'audit_entries'));
      let dumped = 0;
      for (const { table_name } of tables) {
        const dump = await rows<{ j: string }>(`select to_jsonb(t)::text as j from "${table_name}" t`);
        dumped += dump.length;
        for (const { j } of dump) {
          assert.deepEqual(tinsIn(j, tinsStored), [], `${table_name}: ${j}`);
          for (const clear of [LINE1, LINE2, CITY, SIGNATURE]) assert.ok(!j.includes(clear), `${table_name} holds "${clear}": ${j}`);
        }
      }
      assert.ok(dumped > 0);
      assert.ok(tinsStored.size >= 10, `the dump is checked for the ${tinsStored.size} TINs stored by this file`);
      const w9Entries = await rows<{ details: string }>(`select details::text as details from audit_entries where action like 'w9.%'`);
      assert.ok(w9Entries.length > 0);
      for (const { details } of w9Entries) assert.deepEqual(tinsIn(details, tinsSent), [], details);
    });

    it('logs no TIN, street line or signature, including the error of a form that does not open', async () => {
      // Provoke the plugin's error line here as well, so this holds when run alone.
      const tin = '689-23-4560';
      const user = await withForm('logged', tin);
      const row = await currentRow(user.id);
      await writeRow({ ...row, signature_sealed: alter(row.signature_sealed, 3) });
      await expectUndecryptable(user, tin);
      await writeRow(row);

      const lines = logs.lines;
      assert.ok(lines.some((l) => l.level === 'error' && l.formId === row.id && /does not open/.test(String(l.msg))), 'the plugin logged the failure');
      assert.ok(lines.some((l) => l.msg === 'request' || typeof l.path === 'string'), 'requests are logged');
      assert.ok(tinsSent.size >= 20);
      const text = logs.text();
      assert.deepEqual(tinsIn(text, tinsSent), []);
      for (const clear of [LINE1, LINE2, CITY, SIGNATURE]) assert.ok(!text.includes(clear), `a log line holds "${clear}"`);
    });
  });
});
