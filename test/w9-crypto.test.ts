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
import { maskTin, tinDigits, tinProblem } from '../plugins/w9-encryption/tin.ts';

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
    assert.equal(tinProblem('123456789', 'ssn'), undefined);
    for (const bad of ['000456789', '666456789', '900456789', '999456789', '123006789', '123450000']) assert.ok(tinProblem(bad, 'ssn'), bad);
    for (const good of ['013456789', '103456789', '273456789', '993456789']) assert.equal(tinProblem(good, 'ein'), undefined, good);
    for (const bad of ['003456789', '073456789', '193456789', '283456789', '493456789', '693456789', '703456789', '893456789', '963456789']) {
      assert.ok(tinProblem(bad, 'ein'), bad);
    }
    assert.equal(maskTin('123456789', 'ssn'), '***-**-6789');
    assert.equal(maskTin('123456789', 'ein'), '**-***6789');
  });
});
