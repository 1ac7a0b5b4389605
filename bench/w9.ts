/**
 * The W-9 figures (w9-encryption plugin):
 *
 * 1. Sealing and opening one W-9 (all its encrypted fields: TIN, address, signature, plus the
 *    TIN's blind index when sealing) per second, with the plugin's own code, one at a time and 16
 *    in flight. Baseline in the same run: one AES-256-GCM encryption of an 11-byte TIN through Web
 *    Crypto with an already derived key (the least any encrypted field can cost).
 * 2. `rotate-keys` over 100,000 forms sealed under k1, run by a kernel whose ring is "k2,k1",
 *    while 4 writers keep replacing forms (the PUT's transaction: seal under the active key,
 *    supersede, insert) on the same database. Baseline in the same run: re-sealing the same
 *    forms in memory alone (open + seal, no database), so the ratio is what the database and the
 *    batches' locks cost.
 *
 * `npm run bench` runs it as one section; `node bench/w9.ts` runs it alone.
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { v7 as uuidv7 } from 'uuid';
import { configure, type CommandIo } from '../core/index.ts';
import { createScratchDatabase, createTestKernel } from '../host/testing.ts';
import { auditPlugin } from '../plugins/audit/index.ts';
import { authPlugin } from '../plugins/auth/index.ts';
import { emailPlugin } from '../plugins/email/index.ts';
import { createBlindIndex } from '../plugins/w9-encryption/blind-index.ts';
import { FieldCipher } from '../plugins/w9-encryption/field-cipher.ts';
import { openForm, resealRow, sealForm } from '../plugins/w9-encryption/form-seal.ts';
import { FORMS_TABLE, FormStore, type FormRow, type NewFormRow } from '../plugins/w9-encryption/form-store.ts';
import { w9EncryptionPlugin } from '../plugins/w9-encryption/index.ts';
import { importKeyRing, purposeKey } from '../plugins/w9-encryption/key-ring.ts';
import type { W9Input } from '../plugins/w9-encryption/schemas.ts';

export const ROTATION_FORMS = 100_000;
const WRITERS = 4;
const key = () => randomBytes(32).toString('base64');

export interface W9Figures {
  readonly baselinePerSecond: number;
  readonly sealPerSecond: number;
  readonly sealConcurrentPerSecond: number;
  readonly openPerSecond: number;
  readonly openConcurrentPerSecond: number;
  readonly rotation: {
    readonly forms: number;
    readonly seconds: number;
    readonly perSecond: number;
    readonly inMemoryPerSecond: number;
    readonly replacements: number;
    readonly output: string;
  };
}

function input(n: number): W9Input {
  return {
    legalName: `Taxpayer ${n}`,
    businessName: null,
    taxClassification: 'individual',
    tin: `1${String(10 + (n % 89)).padStart(2, '0')}${String(10 + (n % 89)).padStart(2, '0')}${String(1 + (n % 9998)).padStart(4, '0')}`,
    tinType: 'ssn',
    address: { line1: `${n} Benchmark Boulevard`, line2: null, city: 'Springfield', state: 'IL', postalCode: '62701' },
    signature: `Signed by taxpayer ${n}`,
    signedAt: '2026-11-30T00:00:00.000Z',
  };
}

/** Operations per second of `op`, with `inFlight` at once, for about `seconds`. */
async function rate(op: (i: number) => Promise<unknown>, inFlight: number, seconds = 2): Promise<number> {
  let done = 0;
  const until = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (performance.now() < until) await op(done++);
    }),
  );
  return done / ((performance.now() - started) / 1000);
}

export async function benchW9(): Promise<W9Figures> {
  const k1 = `k1:${key()}`;
  const k2 = `k2:${key()}`;
  const indexKey = key();
  const ring1 = await importKeyRing(k1);
  const cipher1 = new FieldCipher(ring1);
  const index = await createBlindIndex(indexKey);

  // 1. One form sealed and opened, against one bare AES-GCM encryption.
  const aes = await purposeKey(ring1.active, 'bench');
  const tin = new TextEncoder().encode('123-45-6789');
  const baselinePerSecond = await rate(() => crypto.subtle.encrypt({ name: 'AES-GCM', iv: crypto.getRandomValues(new Uint8Array(12)) }, aes, tin), 1);
  const sample = await sealForm(cipher1, index, uuidv7(), input(1));
  const sampleRow = asRow(sample);
  await openForm(cipher1, sampleRow); // derive the keys once, outside the timing
  const sealPerSecond = await rate((i) => sealForm(cipher1, index, sample.userId, input(i)), 1);
  const sealConcurrentPerSecond = await rate((i) => sealForm(cipher1, index, sample.userId, input(i)), 16);
  const openPerSecond = await rate(() => openForm(cipher1, sampleRow), 1);
  const openConcurrentPerSecond = await rate(() => openForm(cipher1, sampleRow), 16);

  // 2. rotate-keys over 100,000 forms while replacements go on.
  const scratch = await createScratchDatabase();
  const outboxDir = (await import('node:fs')).mkdtempSync(`${(await import('node:os')).tmpdir()}/empulse-bench-w9-`);
  const plugins = (encryptionKeys: string) => [
    authPlugin,
    configure(emailPlugin, { transport: 'outbox', outboxDir }),
    auditPlugin,
    configure(w9EncryptionPlugin, { encryptionKeys, indexKey }),
  ];
  const env = { JWT_SECRET: 'bench-w9-secret-0123456789-abcdefghijklmnopqrstuvwxyz' };
  const database = { driver: 'postgresql' as const, url: scratch.url, poolMax: 8 };
  const seeder = await createTestKernel({ plugins: plugins(k1), env, database });
  try {
    const rows: NewFormRow[] = [];
    for (let start = 0; start < ROTATION_FORMS; start += 1000) {
      const batch = await Promise.all(Array.from({ length: 1000 }, (_, i) => sealForm(cipher1, index, uuidv7(), input(start + i))));
      rows.push(...batch);
      await seeder.kernel.database.orm.em.getConnection().execute(
        `insert into ${FORMS_TABLE} (id, user_id, legal_name, business_name, tax_classification, tin_type, tin_sealed, tin_index, address_sealed,
           signature_sealed, key_id, signed_at, created_at)
         select id, user_id, legal_name, null, 'individual', 'ssn', tin_sealed, tin_index, address_sealed, signature_sealed, key_id, signed_at, now()
           from jsonb_to_recordset(?::jsonb) as v(id uuid, user_id uuid, legal_name text, tin_sealed text, tin_index text, address_sealed text,
             signature_sealed text, key_id text, signed_at timestamptz)`,
        [
          JSON.stringify(
            batch.map((r) => ({
              id: r.id, user_id: r.userId, legal_name: r.legalName, tin_sealed: r.sealed.tin_sealed, tin_index: r.tinIndex,
              address_sealed: r.sealed.address_sealed, signature_sealed: r.sealed.signature_sealed, key_id: r.keyId, signed_at: r.signedAt,
            })),
          ),
        ],
        'run',
      );
    }
    await seeder.kernel.database.orm.em.getConnection().execute(`analyze ${FORMS_TABLE}`, [], 'run');

    // Baseline: the same work without the database, over a sample of the rows.
    const cipher12 = new FieldCipher(await importKeyRing(`${k2},${k1}`));
    const sampleRows = rows.slice(0, 5000).map(asRow);
    const t0 = performance.now();
    for (let i = 0; i < sampleRows.length; i += 200) await Promise.all(sampleRows.slice(i, i + 200).map((row) => resealRow(cipher12, row)));
    const inMemoryPerSecond = sampleRows.length / ((performance.now() - t0) / 1000);

    const rotator = await createTestKernel({ plugins: plugins(`${k2},${k1}`), env, database });
    try {
      const store = new FormStore();
      let rotating = true;
      let replacements = 0;
      const writers = Array.from({ length: WRITERS }, async (_, w) => {
        for (let i = 0; rotating; i++) {
          const userId = rows[(w * 7919 + i * 104_729) % rows.length]!.userId;
          const form = await sealForm(cipher12, index, userId, input(i));
          await rotator.kernel.database.transactional((em) => store.replace(em, form));
          replacements++;
        }
      });
      const lines: string[] = [];
      const io: CommandIo = { out: (l) => lines.push(l), err: (l) => lines.push(`error: ${l}`) };
      const started = performance.now();
      const code = await rotator.kernel.runCommand(['w9', 'rotate-keys'], io);
      const seconds = (performance.now() - started) / 1000;
      rotating = false;
      await Promise.all(writers);
      if (code !== 0) throw new Error(`rotate-keys exited with ${code}: ${lines.join('; ')}`);
      return {
        baselinePerSecond,
        sealPerSecond,
        sealConcurrentPerSecond,
        openPerSecond,
        openConcurrentPerSecond,
        rotation: { forms: ROTATION_FORMS, seconds, perSecond: ROTATION_FORMS / seconds, inMemoryPerSecond, replacements, output: lines.join('; ') },
      };
    } finally {
      await rotator.close();
    }
  } finally {
    await seeder.close();
    await scratch.drop();
    (await import('node:fs')).rmSync(outboxDir, { recursive: true, force: true });
  }
}

/** A sealed form as the table returns it. */
function asRow(r: NewFormRow): FormRow {
  return {
    id: r.id, user_id: r.userId, legal_name: r.legalName, business_name: r.businessName, tax_classification: r.taxClassification,
    tin_type: r.tinType, tin_sealed: r.sealed.tin_sealed, tin_index: r.tinIndex, address_sealed: r.sealed.address_sealed, signature_sealed: r.sealed.signature_sealed,
    key_id: r.keyId, signed_at: r.signedAt, created_at: r.signedAt,
  };
}

export function printW9(f: W9Figures): void {
  const row = (name: string, perSecond: number) => console.log(`| ${name} | ${perSecond.toFixed(0)} | ${(1e6 / perSecond).toFixed(0)} | ${(perSecond / f.baselinePerSecond).toFixed(2)} |`);
  console.log('\n| W-9 crypto (Web Crypto, plugin code) | per second | µs each | ratio to one AES-GCM encryption |');
  console.log('|---|---:|---:|---:|');
  row('baseline: one AES-256-GCM encryption of an 11-byte TIN', f.baselinePerSecond);
  row('seal one W-9 (TIN, address, signature + blind index), 1 at a time', f.sealPerSecond);
  row('seal one W-9, 16 in flight', f.sealConcurrentPerSecond);
  row('open one W-9 (3 fields), 1 at a time', f.openPerSecond);
  row('open one W-9, 16 in flight', f.openConcurrentPerSecond);
  const r = f.rotation;
  console.log(`\n| w9 rotate-keys, ${r.forms.toLocaleString('en')} forms, ${WRITERS} writers replacing forms meanwhile | forms/s | s | ratio to re-sealing in memory |`);
  console.log('|---|---:|---:|---:|');
  console.log(`| baseline: open + seal in memory (no database) | ${r.inMemoryPerSecond.toFixed(0)} | | 1.00 |`);
  console.log(`| rotate-keys (batches of 200, each in its own transaction) | ${r.perSecond.toFixed(0)} | ${r.seconds.toFixed(1)} | ${(r.perSecond / r.inMemoryPerSecond).toFixed(2)} |`);
  console.log(`\nreplacements committed during the rotation: ${r.replacements}; the command said: ${r.output}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) printW9(await benchW9());
