/**
 * How a plugin author tests a plugin: boot it with the test kernel (real PostgreSQL, a fresh
 * database), send requests with inject(), and assert on the answers and on what was stored.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { configure, definePlugin } from '../../core/index.ts';
import { createTestKernel, type TestKernel } from '../../host/testing.ts';
import { moderationPlugin } from './moderation-plugin.ts';
import { messagePosted, shoutboxPlugin } from './shoutbox-plugin.ts';

describe('shoutbox example plugin', () => {
  let t: TestKernel;
  const posted: string[] = [];
  // A third plugin listening to the shoutbox's hook, as any other plugin would.
  const listener = definePlugin({
    id: 'listener',
    version: '1.0.0',
    hooks: (on) => [on(messagePosted, (payload) => void posted.push(payload.author))],
  });

  before(async () => {
    t = await createTestKernel({ plugins: [shoutboxPlugin, configure(moderationPlugin, { blockedWords: ['darn'] }), listener] });
  });
  after(() => t.close());

  it('stores a message, masking words the moderation service blocks', async () => {
    const res = await t.inject({ method: 'POST', url: '/v1/shoutbox/messages', payload: { author: 'Nina', text: 'darn good record' } });
    assert.equal(res.statusCode, 201);
    const body = res.json();
    assert.equal(body.text, '**** good record');
    assert.equal(body.masked, true);
    assert.equal(res.headers.location, `/v1/shoutbox/messages/${body.id}`);
    const rows = await t.kernel.database.orm.em.getConnection().execute('select author, text from shoutbox_messages');
    assert.deepEqual(rows, [{ author: 'Nina', text: '**** good record' }]);
    await t.kernel.hooksSettled();
    assert.deepEqual(posted, ['Nina']);
  });

  it('rejects an invalid message with 422 and stores nothing', async () => {
    const before = await t.inject({ url: '/v1/shoutbox/messages?limit=100' });
    const res = await t.inject({ method: 'POST', url: '/v1/shoutbox/messages', payload: { author: '', text: 'x'.repeat(501) } });
    assert.equal(res.statusCode, 422);
    assert.deepEqual(res.json().errors.map((e: { path: string }) => e.path).sort(), ['author', 'text']);
    const afterList = await t.inject({ url: '/v1/shoutbox/messages?limit=100' });
    assert.equal(afterList.json().items.length, before.json().items.length);
  });

  it('pages through messages newest first with opaque cursors', async () => {
    for (const n of [1, 2, 3, 4]) {
      await t.inject({ method: 'POST', url: '/v1/shoutbox/messages', payload: { author: `a${n}`, text: `hello ${n}` } });
    }
    const first = (await t.inject({ url: '/v1/shoutbox/messages?limit=2' })).json();
    assert.deepEqual(first.items.map((m: { author: string }) => m.author), ['a4', 'a3']);
    assert.equal(typeof first.nextCursor, 'string');
    const second = (await t.inject({ url: `/v1/shoutbox/messages?limit=2&cursor=${first.nextCursor}` })).json();
    assert.deepEqual(second.items.map((m: { author: string }) => m.author), ['a2', 'a1']);
    const last = (await t.inject({ url: `/v1/shoutbox/messages?limit=2&cursor=${second.nextCursor}` })).json();
    assert.deepEqual(last.items.map((m: { author: string }) => m.author), ['Nina']);
    assert.equal(last.nextCursor, null);
    // A cursor the service did not sign (or one altered) is refused like any invalid parameter.
    const bad = await t.inject({ url: '/v1/shoutbox/messages?cursor=not-ours' });
    assert.equal(bad.statusCode, 422);
    assert.equal(bad.json().code, 'validation_failed');
    assert.deepEqual(bad.json().errors.map((e: { path: string }) => e.path), ['cursor']);
    const altered = `${first.nextCursor.slice(0, -2)}${first.nextCursor.endsWith('AA') ? 'AB' : 'AA'}`;
    assert.equal((await t.inject({ url: `/v1/shoutbox/messages?limit=2&cursor=${altered}` })).statusCode, 422);
  });

  it('keeps per-kernel state: messages posted since this kernel started, counted by its hook', async () => {
    await t.kernel.hooksSettled();
    const { postedSinceStart } = (await t.inject({ url: '/v1/shoutbox/stats' })).json();
    const total = (await t.inject({ url: '/v1/shoutbox/messages?limit=100' })).json().items.length;
    assert.equal(postedSinceStart, total);
  });

  it('answers 404 not_found for an unknown message', async () => {
    const res = await t.inject({ url: '/v1/shoutbox/messages/01a20df2-4a68-7655-8a2f-a9f69b7105d6' });
    assert.equal(res.statusCode, 404);
    assert.equal(res.json().code, 'not_found');
  });

  it('cannot boot without the service it requires', async () => {
    await assert.rejects(createTestKernel({ plugins: [shoutboxPlugin] }), /shoutbox.*example\.moderation/s);
  });
});
