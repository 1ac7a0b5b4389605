/**
 * Access tokens: a verified token's claims are kept until it expires (its signature is checked
 * once), which must never let an expired or altered token through.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AccessTokens } from '../plugins/auth/access-tokens.ts';

const SECRET = 'access-token-test-secret-0123456789-abcdefghijklmnopq';
const claims = { userId: '01a23c41-75b1-7089-8dbf-86e4d211fc49', sessionId: '01a23c41-7736-732c-91f3-11478aa40d74', role: 'artist' as const };

describe('AccessTokens', () => {
  it('verifies a token again from what it kept, and still refuses it once it has expired', async () => {
    const tokens = await AccessTokens.create({ secret: SECRET, issuer: 'https://api.empulse.test', ttlSeconds: 1 });
    const token = await tokens.sign(claims);
    assert.deepEqual(await tokens.verify(token), claims);
    assert.deepEqual(await tokens.verify(token), claims, 'the second verification (kept claims)');
    // `exp` is whole seconds: past the next second boundary plus one, the token is over.
    await new Promise((resolve) => setTimeout(resolve, 2100 - (Date.now() % 1000)));
    assert.equal(await tokens.verify(token), undefined, 'expired, though its claims were kept');
    assert.equal(await tokens.verify(token), undefined);
  });

  it('refuses an altered token whose original was verified and kept', async () => {
    const tokens = await AccessTokens.create({ secret: SECRET, issuer: 'https://api.empulse.test', ttlSeconds: 900 });
    const token = await tokens.sign(claims);
    assert.deepEqual(await tokens.verify(token), claims);
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const flipped = `${signature.slice(0, -2)}${signature.at(-2) === 'A' ? 'B' : 'A'}${signature.at(-1)}`;
    assert.equal(await tokens.verify(`${header}.${payload}.${flipped}`), undefined, 'another signature');
    const admin = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), role: 'admin' })).toString('base64url');
    assert.equal(await tokens.verify(`${header}.${admin}.${signature}`), undefined, 'another payload');
    const other = await AccessTokens.create({ secret: `${SECRET}-other`, issuer: 'https://api.empulse.test', ttlSeconds: 900 });
    assert.equal(await other.verify(token), undefined, 'kept per key: another key never sees it as verified');
  });
});
