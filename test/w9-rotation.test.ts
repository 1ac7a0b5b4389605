/**
 * Key rotation of the w9-encryption plugin on real PostgreSQL, as an operator does it: forms are
 * stored under key k1; a kernel with "k2,k1" (k2 first) runs `w9 rotate-keys` in small batches
 * while users keep replacing their forms through it; every form ends under k2 with the latest
 * PUT of each user current; a second run finds nothing; a kernel with k2 alone reveals every
 * form, current and past, with the values it was given. A ring missing a key that forms need
 * fails readiness and the command, naming the key; a tampered form stops the rotation without
 * writing its batch. The command also runs through the real CLI (`empulse w9 rotate-keys`).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { v7 as uuidv7 } from 'uuid';
import { configure, type CommandIo, type SqlExecutor } from '../core/index.ts';
import { runCli } from '../host/cli.ts';
import { createTestKernel, type TestKernel } from '../host/testing.ts';
import { auditPlugin } from '../plugins/audit/index.ts';
import { authServiceRef } from '../plugins/auth/contract.ts';
import { authPlugin } from '../plugins/auth/index.ts';
import { emailPlugin } from '../plugins/email/index.ts';
import { healthPlugin } from '../plugins/health/index.ts';
import { createBlindIndex } from '../plugins/w9-encryption/blind-index.ts';
import { FieldCipher } from '../plugins/w9-encryption/field-cipher.ts';
import { openForm, sealForm } from '../plugins/w9-encryption/form-seal.ts';
import { FormStore, type FormRow } from '../plugins/w9-encryption/form-store.ts';
import { w9EncryptionPlugin } from '../plugins/w9-encryption/index.ts';
import { importKeyRing } from '../plugins/w9-encryption/key-ring.ts';
import type { W9Input } from '../plugins/w9-encryption/schemas.ts';
import { logIn, signedInUser, type SignedInUser } from './support/accounts.ts';
import { startMailbox, type Mailbox } from './support/mailbox.ts';
import { projectRoot } from './support/paths.ts';

const APP = 'https://app.empulse.test';
const JWT_SECRET = 'w9-rotation-test-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const PASSWORD = 'correct horse battery staple';
const key = () => randomBytes(32).toString('base64');
const K1 = `k1:${key()}`;
const K2 = `k2:${key()}`;
const K3 = `k3:${key()}`;
const INDEX_KEY = key();
/** Forms stored straight through the plugin's own sealing code (no accounts needed), under k1. */
const BULK = 400;

type User = SignedInUser;

/** A W-9 as a client sends it; `n` makes each one's TIN, address and signature distinct. */
function formBody(n: number): Record<string, unknown> {
  // SSNs 100-10-0001 onwards: valid area, group and serial.
  const serial = String(1 + (n % 9998)).padStart(4, '0');
  const group = String(10 + Math.floor(n / 9998)).padStart(2, '0');
  return {
    legalName: `Taxpayer ${n}`,
    taxClassification: 'individual',
    tin: `100-${group}-${serial}`,
    tinType: 'ssn',
    address: { line1: `${n} Rotation Road`, city: 'Springfield', state: 'IL', postalCode: '62701' },
    signature: `Signed by taxpayer ${n}`,
    signedAt: '2026-11-30',
  };
}

function asInput(body: Record<string, unknown>): W9Input {
  const address = body.address as W9Input['address'];
  return {
    legalName: body.legalName as string,
    businessName: null,
    taxClassification: 'individual',
    tin: (body.tin as string).replace(/-/g, ''),
    tinType: 'ssn',
    address: { ...address, line2: null },
    signature: body.signature as string,
    signedAt: new Date(body.signedAt as string).toISOString(),
  };
}

function captureIo(): CommandIo & { out_: string[]; err_: string[] } {
  const out_: string[] = [];
  const err_: string[] = [];
  return { out_, err_, out: (line) => out_.push(line), err: (line) => err_.push(line) };
}

describe('w9-encryption: rotate-keys', () => {
  let mailbox: Mailbox;
  /** The deployment before the rotation: k1 alone. */
  let before1: TestKernel;
  /** Every kernel opened on the same database, closed at the end (before1 last: it owns the database). */
  const others: TestKernel[] = [];
  let users: User[] = [];
  /** What each form was sealed with, by form id: to compare after the rotation. */
  const expected = new Map<string, W9Input>();
  /** Each user's last PUT. */
  const latest = new Map<string, Record<string, unknown>>();

  const plugins = (encryptionKeys: string, extra: object = {}) => [
    configure(healthPlugin, { readinessCacheMs: 0 }),
    authPlugin,
    configure(emailPlugin, { transport: 'smtp', smtpUrl: mailbox.url, publicAppUrl: APP, pollIntervalMs: 50, retryBaseDelayMs: 20 }),
    auditPlugin,
    configure(w9EncryptionPlugin, { encryptionKeys, indexKey: INDEX_KEY, ...extra }),
  ];
  const onSameDatabase = async (encryptionKeys: string, extra: object = {}) => {
    const k = await createTestKernel({ plugins: plugins(encryptionKeys, extra), env: { JWT_SECRET }, database: before1.database });
    others.push(k);
    return k;
  };
  const sql = (): SqlExecutor => before1.kernel.database.orm.em.getConnection();
  const rows = async (): Promise<FormRow[]> =>
    (await sql().execute('select * from w9_encryption_forms order by id', [], 'all')) as FormRow[];

  const newUser = (t: TestKernel, label: string): Promise<User> =>
    signedInUser(t, mailbox, { email: `${label}@example.test`, password: PASSWORD, displayName: label, appUrl: APP });

  async function put(t: TestKernel, user: User, n: number): Promise<void> {
    const body = formBody(n);
    const answer = await t.inject({ method: 'PUT', url: '/v1/w9', headers: user.headers, payload: body });
    assert.equal(answer.statusCode, 200, answer.body);
    latest.set(user.id, body);
  }

  before(async () => {
    mailbox = await startMailbox();
    before1 = await createTestKernel({ plugins: plugins(K1), env: { JWT_SECRET } });
    users = await Promise.all(['ada', 'bob', 'cy'].map((label) => newUser(before1, `rotation-${label}`)));
    for (const [i, user] of users.entries()) await put(before1, user, 1000 + i);
    // The bulk: sealed by the plugin's own code under k1, as a kernel with k1 would store them.
    const cipher = new FieldCipher(await importKeyRing(K1));
    const index = await createBlindIndex(INDEX_KEY);
    const store = new FormStore();
    for (let start = 0; start < BULK; start += 100) {
      await before1.kernel.database.transactional(async (em) => {
        for (let n = start; n < start + 100; n++) {
          const input = asInput(formBody(n));
          const row = await sealForm(cipher, index, uuidv7(), input);
          await store.replace(em, row);
          expected.set(row.id, input);
        }
      });
    }
    for (const row of await rows()) if (!expected.has(row.id)) expected.set(row.id, asInput(latest.get(row.user_id)!));
  });
  after(async () => {
    for (const k of others.reverse()) await k.close();
    await before1?.close();
    await mailbox?.close();
  });

  it('re-encrypts every form under the new first key in batches while PUTs go on, loses none of them, and a second run finds nothing', async () => {
    const sealedBefore = await rows();
    assert.equal(sealedBefore.length, BULK + users.length);
    assert.ok(sealedBefore.every((r) => r.key_id === 'k1'));
    const during = await onSameDatabase(`${K2},${K1}`, { rotationBatchSize: 25 });
    const io = captureIo();
    let rotating = true;
    const rotation = during.kernel.runCommand(['w9', 'rotate-keys'], io).finally(() => (rotating = false));
    // Each user replaces their form again and again for as long as the rotation runs.
    let puts = 0;
    await Promise.all(
      users.map(async (user, i) => {
        for (let round = 1; rotating || round <= 2; round++) {
          await put(during, user, 2000 + i * 100 + round);
          puts++;
        }
      }),
    );
    assert.equal(await rotation, 0, io.err_.join('\n'));
    assert.deepEqual(io.out_, [`re-encrypted ${BULK + users.length} W-9 forms under key "k2"`]);
    assert.ok(puts >= users.length * 2);

    const after = await rows();
    assert.equal(after.length, BULK + users.length + puts, 'every form kept: the replaced ones too');
    assert.deepEqual(after.filter((r) => r.key_id !== 'k2'), [], 'nothing left under k1');
    // Each user's current form is their last PUT, and exactly one is current.
    for (const user of users) {
      const current = (await sql().execute('select count(*)::int as n from w9_encryption_forms where user_id = ? and superseded_at is null', [user.id], 'get')) as { n: number };
      assert.equal(current.n, 1);
      const shown = await during.inject({ url: '/v1/w9', headers: user.headers });
      assert.equal(shown.statusCode, 200);
      assert.equal(shown.json().legalName, latest.get(user.id)!.legalName);
    }

    const again = captureIo();
    assert.equal(await during.kernel.runCommand(['w9', 'rotate-keys'], again), 0);
    assert.deepEqual(again.out_, ['nothing to re-encrypt: every W-9 form is under key "k2"']);
    assert.deepEqual(again.err_, []);
  });

  it('with the old key removed from the ring, every form, current and past, still opens to what was stored', async () => {
    const afterwards = await onSameDatabase(K2);
    const cipher = new FieldCipher(await importKeyRing(K2));
    const stored = await rows();
    for (const row of stored) {
      const form = await openForm(cipher, row);
      const want = expected.get(row.id);
      if (want === undefined) {
        // A PUT made during the rotation: its user and legal name say which body it was.
        assert.match(form.legalName, /^Taxpayer 2\d{3}$/);
        continue;
      }
      assert.equal(form.tin, want.tin, `form ${row.id}`);
      assert.deepEqual(form.address, want.address);
      assert.equal(form.signature, want.signature);
    }
    // And through the API: an admin reveals each user's current form.
    const admin = await newUser(afterwards, 'rotation-admin');
    await afterwards.kernel.database.transactional((em) => afterwards.service(authServiceRef).setRole(admin.id, 'admin', { em }));
    const adminHeaders = (await logIn(afterwards, 'rotation-admin@example.test', PASSWORD)).headers;
    for (const user of users) {
      const revealed = await afterwards.inject({ method: 'POST', url: `/v1/admin/w9/${user.id}/reveal`, headers: adminHeaders, payload: { reason: 'rotation check' } });
      assert.equal(revealed.statusCode, 200, revealed.body);
      const body = latest.get(user.id)!;
      assert.equal(revealed.json().tin, (body.tin as string).replace(/-/g, ''));
      assert.equal(revealed.json().address.line1, (body.address as { line1: string }).line1);
    }
    const ready = await afterwards.inject({ url: '/health/ready' });
    assert.equal(ready.statusCode, 200, ready.body);
    assert.equal(ready.json().checks['w9-keys'].status, 'ok');
  });

  it('a ring without a key that forms need degrades readiness, fails the command naming the key, and changes nothing', async () => {
    const wrong = await onSameDatabase(K3);
    const ready = await wrong.inject({ url: '/health/ready' });
    assert.equal(ready.statusCode, 200, 'the rest of the API still serves');
    const check = ready.json().checks['w9-keys'];
    assert.equal(check.status, 'degraded');
    const count = (await rows()).length;
    assert.match(check.error, new RegExp(`^${count} W-9 form\\(s\\) are sealed under 1 key\\(s\\) that W9_ENCRYPTION_KEYS lacks`));
    const io = captureIo();
    assert.equal(await wrong.kernel.runCommand(['w9', 'rotate-keys'], io), 1);
    assert.deepEqual(io.out_, []);
    assert.match(io.err_.join('\n'), new RegExp(`sealed under keys W9_ENCRYPTION_KEYS lacks \\(${count} under "k2"\\)`));
    assert.ok((await rows()).every((r) => r.key_id === 'k2'), 'nothing re-encrypted');
    assert.equal(await wrong.kernel.runCommand(['w9', 'rotate-keys', 'now'], captureIo()), 2, 'arguments are a usage error');
  });

  it('a form that does not verify stops the rotation, names the form, and its batch stays as it was', async () => {
    const [victim] = await rows();
    // Flip one character of the TIN's ciphertext (its last part).
    const parts = victim!.tin_sealed.split('.');
    const data = parts[3]!;
    parts[3] = (data[0] === 'A' ? 'B' : 'A') + data.slice(1);
    await sql().execute('update w9_encryption_forms set tin_sealed = ? where id = ?', [parts.join('.'), victim!.id], 'run');
    try {
      const next = await onSameDatabase(`${K3},${K2}`, { rotationBatchSize: 10 });
      const io = captureIo();
      assert.equal(await next.kernel.runCommand(['w9', 'rotate-keys'], io), 1);
      assert.match(io.err_.join('\n'), new RegExp(`form ${victim!.id} \\(user ${victim!.user_id}\\): a sealed value does not verify`));
      // The victim has the lowest id: its batch was the first, and none of it was written.
      const firstBatch = (await rows()).slice(0, 10);
      assert.ok(firstBatch.every((r) => r.key_id === 'k2'));
    } finally {
      await sql().execute('update w9_encryption_forms set tin_sealed = ? where id = ?', [victim!.tin_sealed, victim!.id], 'run');
    }
  });

  it('runs as `empulse w9 rotate-keys` through the CLI, with the ring from the environment', async () => {
    const database = before1.database;
    assert.equal(database.driver, 'postgresql');
    const dataDir = await mkdtemp(join(tmpdir(), 'empulse-w9-cli-'));
    try {
      const out: string[] = [];
      const err: string[] = [];
      const run = (keys: string, args = ['w9', 'rotate-keys']) =>
        runCli(args, {
          cwd: projectRoot,
          env: { DATABASE_URL: database.url, DATA_DIR: dataDir, JWT_SECRET, W9_ENCRYPTION_KEYS: keys, W9_INDEX_KEY: INDEX_KEY, LOG_LEVEL: 'silent' },
          out: (line) => out.push(line),
          err: (line) => err.push(line),
          onSignal: () => {},
        });
      // The project's config enables more plugins than this test's kernels: their tables first.
      assert.equal(await run(K2, ['migrate', 'up']), 0, err.join('\n'));
      assert.equal(await run(`${K3},${K2}`), 0, err.join('\n'));
      const count = (await rows()).length;
      assert.ok(out.includes(`re-encrypted ${count} W-9 forms under key "k3"`), out.join('\n'));
      assert.ok((await rows()).every((r) => r.key_id === 'k3'));
      out.length = 0;
      assert.equal(await run(K3), 0, err.join('\n'));
      assert.ok(out.includes('nothing to re-encrypt: every W-9 form is under key "k3"'), out.join('\n'));
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
