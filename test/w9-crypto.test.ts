/**
 * The w9-encryption plugin's crypto (plugins/w9-encryption: key ring, field cipher, blind index,
 * TIN rules), on Web Crypto only: it runs under Node and under Deno (`npm run test:deno`). Round
 * trips; any altered byte of the ciphertext, the IV or the key id fails; a value moved to another
 * row, column or table fails; the ring decrypts with every key and encrypts with the first; a key
 * removed from the ring is reported by id; the blind index does not change with the ring; the SSN
 * and EIN rules and the masks.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createBlindIndex } from '../plugins/w9-encryption/blind-index.ts';
import { FieldCipher, SealedValueError, sealedKeyId, type FieldLocation } from '../plugins/w9-encryption/field-cipher.ts';
import { importKeyRing, KeyRingError } from '../plugins/w9-encryption/key-ring.ts';
import { tinMaskingLogger } from '../plugins/w9-encryption/masking-logger.ts';
import { maskTin, maskTinShapes, tinDigits, tinProblem } from '../plugins/w9-encryption/tin.ts';
import type { Logger } from '../core/index.ts';

const key = (fill: number) => btoa(String.fromCharCode(...new Uint8Array(32).fill(fill)));
const HERE: FieldLocation = { table: 'w9_forms', column: 'tin', rowId: '0191d9c2-0000-7000-8000-000000000001' };

async function refusedAs(promise: Promise<unknown>, ...problems: SealedValueError['problem'][]): Promise<void> {
  await assert.rejects(promise, (err: unknown) => err instanceof SealedValueError && problems.includes(err.problem));
}

/** `sealed` with one character of part `index` replaced by another valid base64url character. */
function alter(sealed: string, index: number, at = 0): string {
  const parts = sealed.split('.');
  const part = parts[index]!;
  const c = part[at] === 'A' ? 'B' : 'A';
  parts[index] = part.slice(0, at) + c + part.slice(at + 1);
  return parts.join('.');
}

describe('w9 crypto', () => {
  it('round-trips a value, sealed as v1.<keyId>.<iv>.<data> with a fresh IV each time', async () => {
    const cipher = new FieldCipher(await importKeyRing(`k2:${key(2)},k1:${key(1)}`));
    const a = await cipher.encrypt('123-45-6789', HERE);
    const b = await cipher.encrypt('123-45-6789', HERE);
    assert.match(a, /^v1\.k2\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    assert.notEqual(a, b, 'a random IV per value');
    assert.ok(!a.includes('6789'));
    assert.equal(await cipher.decrypt(a, HERE), '123-45-6789');
    assert.equal(sealedKeyId(a), 'k2');
    assert.equal(cipher.activeKeyId, 'k2');
  });

  it('refuses any altered byte of the ciphertext, the tag or the IV, and a relabelled key id', async () => {
    const cipher = new FieldCipher(await importKeyRing(`k2:${key(2)},k1:${key(1)}`));
    const sealed = await cipher.encrypt('{"line1":"1 Main St"}', HERE);
    const data = sealed.split('.')[3]!;
    for (const at of [0, Math.floor(data.length / 2), data.length - 2]) await refusedAs(cipher.decrypt(alter(sealed, 3, at), HERE), 'tampered');
    await refusedAs(cipher.decrypt(alter(sealed, 2, 3), HERE), 'tampered');
    // Same bytes, labelled with the other key of the ring.
    await refusedAs(cipher.decrypt(sealed.replace('v1.k2.', 'v1.k1.'), HERE), 'tampered');
    await refusedAs(cipher.decrypt(sealed.replace('v1.', 'v2.'), HERE), 'malformed');
    // Cut short: refused as not base64url, or as not verifying.
    for (const cut of [1, 2, 24, 30]) await refusedAs(cipher.decrypt(sealed.slice(0, -cut), HERE), 'malformed', 'tampered');
    await refusedAs(cipher.decrypt('v1.k2.short.x', HERE), 'malformed');
  });

  it('binds a value to its table, column and row: moved anywhere else, it does not decrypt', async () => {
    const cipher = new FieldCipher(await importKeyRing(`k1:${key(1)}`));
    const sealed = await cipher.encrypt('987-65-4321', HERE);
    for (const elsewhere of [{ ...HERE, rowId: '0191d9c2-0000-7000-8000-000000000002' }, { ...HERE, column: 'signature' }, { ...HERE, table: 'w9_history' }]) {
      await refusedAs(cipher.decrypt(sealed, elsewhere), 'tampered');
    }
    // And to the row's values it is bound to (its owner, its clear fields): any change, even
    // null for an empty string or one value split in two, and it does not decrypt.
    const bound: FieldLocation = { ...HERE, boundTo: ['user-a', 'Ada', null] };
    const tied = await cipher.encrypt('987-65-4321', bound);
    assert.equal(await cipher.decrypt(tied, { ...bound, boundTo: ['user-a', 'Ada', null] }), '987-65-4321');
    for (const boundTo of [['user-b', 'Ada', null], ['user-a', 'Ada', ''], ['user-a', 'Ad', 'a'], ['user-a', 'Ada'], []]) {
      await refusedAs(cipher.decrypt(tied, { ...bound, boundTo }), 'tampered');
    }
    await refusedAs(cipher.decrypt(tied, HERE), 'tampered');
  });

  it('encrypts under the first key and decrypts under any; a key removed from the ring is named', async () => {
    const old = new FieldCipher(await importKeyRing(`k1:${key(1)}`));
    const sealedOld = await old.encrypt('old', HERE);
    const rotated = new FieldCipher(await importKeyRing(`k2:${key(2)},k1:${key(1)}`));
    assert.equal(await rotated.decrypt(sealedOld, HERE), 'old');
    const sealedNew = await rotated.encrypt('new', HERE);
    assert.equal(sealedKeyId(sealedNew), 'k2');
    const retired = new FieldCipher(await importKeyRing(`k2:${key(2)}`));
    assert.equal(await retired.decrypt(sealedNew, HERE), 'new');
    await assert.rejects(retired.decrypt(sealedOld, HERE), (err: unknown) => {
      assert.ok(err instanceof SealedValueError);
      assert.equal(err.problem, 'unknown_key');
      assert.equal(err.keyId, 'k1');
      assert.match(err.message, /key "k1", which is not in the key ring/);
      return true;
    });
  });

  it('refuses a malformed ring, saying what is wrong without echoing a key', async () => {
    const cases: [string, RegExp][] = [
      ['', /holds no key/],
      [key(1), /entry 1 has no key id/],
      [`k1:${key(1)},k1:${key(2)}`, /"k1" appears twice/],
      ['k1:c2hvcnQ=', /"k1" is not base64 of 32 bytes/],
      ['k1:not base64!', /"k1" is not base64 of 32 bytes/],
    ];
    for (const [text, message] of cases) {
      await assert.rejects(importKeyRing(text), (err: unknown) => err instanceof KeyRingError && message.test(err.message) && !err.message.includes(key(1)));
    }
  });

  it('indexes a TIN with its own key: the same for every ring, different per key and per TIN', async () => {
    const index = await createBlindIndex(key(9));
    const again = await createBlindIndex(key(9));
    const other = await createBlindIndex(key(8));
    const a = await index.of('123456789');
    assert.match(a, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(await again.of('123456789'), a, 'stable: search works across restarts and rotations');
    assert.notEqual(await index.of('123456780'), a);
    assert.notEqual(await other.of('123456789'), a, 'keyed: a dump alone cannot test guesses');
    await assert.rejects(createBlindIndex('c2hvcnQ='), KeyRingError);
  });

  it('validates SSNs and EINs by the SSA and IRS rules, and masks them', () => {
    assert.equal(tinDigits('123-45-6789'), '123456789');
    assert.equal(tinDigits('12-3456789'), '123456789');
    assert.equal(tinDigits('12345678'), undefined);
    assert.equal(tinDigits('12345678a'), undefined);
    assert.equal(tinDigits(' 123 45 6789 '), '123456789');
    for (const loose of ['1-2-3-4-5-6-7-8-9', '123-45 6789', '123\t45\t6789', '1234-56789', '12-345-6789']) assert.equal(tinDigits(loose), undefined, loose);
    assert.equal(tinProblem('123456789', 'ssn'), undefined);
    for (const bad of ['000456789', '666456789', '900456789', '999456789', '123006789', '123450000']) assert.ok(tinProblem(bad, 'ssn'), bad);
    for (const good of ['013456789', '103456789', '273456789', '993456789']) assert.equal(tinProblem(good, 'ein'), undefined, good);
    for (const bad of ['003456789', '073456789', '193456789', '283456789', '493456789', '693456789', '703456789', '893456789', '963456789']) {
      assert.ok(tinProblem(bad, 'ein'), bad);
    }
    assert.equal(maskTin('123456789', 'ssn'), '***-**-6789');
    assert.equal(maskTin('123456789', 'ein'), '**-***6789');
  });

  it('masks anything TIN-shaped in free text, but not digits inside ids and hashes', () => {
    assert.equal(maskTinShapes('tin 123-45-6789 and 123 45 6789, ein 12-3456789, bare 123456789.'), 'tin ***-**-6789 and ***-**-6789, ein **-***6789, bare ***-**-6789.');
    const kept = ['0190a3c4-7e2b-7c1d-9f00-123456789012', 'sha 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08', '1234567890', 'x123456789'];
    for (const text of kept) assert.equal(maskTinShapes(text), text, text);
  });

  it("the plugin's logger masks TINs in messages, fields at any depth, errors and child bindings", () => {
    const lines: { level: string; obj: unknown; msg: unknown }[] = [];
    const record = (level: string) => (obj: unknown, msg?: unknown) => lines.push({ level, obj, msg });
    const inner: Logger = {
      level: 'info',
      fatal: record('fatal'), error: record('error'), warn: record('warn'), info: record('info'), debug: record('debug'), trace: record('trace'),
      child: (bindings) => ({ ...inner, info: (obj: unknown, msg?: unknown) => lines.push({ level: 'child', obj: { bindings, obj }, msg }) }) as Logger,
    };
    const log = tinMaskingLogger(inner);
    log.info('saw 123-45-6789');
    log.warn({ form: { note: 'ein 12-3456789', list: ['987654321'] } }, 'user typed 123456789');
    log.error({ err: new Error('bad tin 123-45-6789') });
    log.child({ about: '123 45 6789' }).info({ x: 1 }, 'ok');
    const text = JSON.stringify(lines);
    for (const digits of ['6789', '3456789', '987654321']) assert.ok(text.includes(digits.slice(-4)), 'the last four digits stay');
    for (const whole of ['123-45-6789', '123456789', '12-3456789', '987654321', '123 45 6789']) assert.ok(!text.includes(whole), `${whole} is masked: ${text}`);
    assert.equal(lines.length, 4);
    assert.equal(log.level, 'info');
  });
});
