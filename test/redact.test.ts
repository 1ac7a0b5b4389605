import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CENSOR, redactSecrets } from '../core/logging/redact.ts';

describe('log redaction', () => {
  it('censors secret fields at any depth up to four levels, case-insensitively', () => {
    const input = {
      password: 'p1',
      user: { email: 'a@b.c', Token: 't1', prefs: { refreshToken: 'r1', deep: { apiKey: 'k1' } } },
      headers: { Authorization: 'Bearer x', cookie: 'sid=1', accept: 'json' },
      list: [{ secret: 's1' }, { ok: 1 }],
    };
    const out = redactSecrets(input);
    assert.equal(out.password, CENSOR);
    assert.equal(out.user.email, 'a@b.c');
    assert.equal(out.user.Token, CENSOR);
    assert.equal(out.user.prefs.refreshToken, CENSOR);
    assert.equal(out.user.prefs.deep.apiKey, CENSOR);
    assert.equal(out.headers.Authorization, CENSOR);
    assert.equal(out.headers.cookie, CENSOR);
    assert.equal(out.headers.accept, 'json');
    assert.equal(out.list[0]!.secret, CENSOR);
    assert.equal(JSON.stringify(out).match(/p1|t1|r1|k1|s1|Bearer|sid=1/), null);
  });

  it('never mutates the logged object and returns it as is when it holds no secret', () => {
    const clean = { requestId: 'x', nested: { status: 200 } };
    assert.equal(redactSecrets(clean), clean);
    const dirty = { a: { password: 'p' } };
    const out = redactSecrets(dirty);
    assert.notEqual(out, dirty);
    assert.equal(dirty.a.password, 'p');
  });
});
