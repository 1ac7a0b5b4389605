/**
 * The lockout plugin's turns (plugins/lockout/turns.ts): waiters on one identifier are woken in
 * ticket order, one per freed slot (all at once for a lock), a newcomer stays behind earlier
 * waiters, a waiter back from its timer keeps its place, and identifiers do not mix.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Turns } from '../plugins/lockout/turns.ts';

const LONG = 60_000; // a timer that must not be what wakes anyone here

describe('lockout turns', () => {
  it('wakes the oldest waiter per release, in ticket order, and everyone for a lock', async () => {
    const turns = new Turns();
    const woken: number[] = [];
    const tickets = [turns.ticket(), turns.ticket(), turns.ticket(), turns.ticket()];
    // Queued out of order: the queue follows tickets, not the order of the calls.
    const waits = [2, 0, 3, 1].map((i) => turns.wait('a@example.test', tickets[i]!, LONG).then(() => woken.push(i)));
    turns.release('a@example.test', false);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(woken, [0]);
    turns.release('a@example.test', false);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(woken, [0, 1]);
    turns.release('a@example.test', true);
    await Promise.all(waits);
    assert.deepEqual(woken.slice(2).sort(), [2, 3]);
    turns.release('a@example.test', false); // nobody left: nothing happens
  });

  it('tells a newcomer that earlier tickets wait, and keeps identifiers apart', async () => {
    const turns = new Turns();
    const first = turns.ticket();
    const newcomer = turns.ticket();
    assert.equal(turns.hasEarlier('a@example.test', newcomer), false, 'nobody waits yet');
    const waiting = turns.wait('a@example.test', first, LONG);
    assert.equal(turns.hasEarlier('a@example.test', newcomer), true);
    assert.equal(turns.hasEarlier('a@example.test', first), false, 'the first in line has nobody before it');
    assert.equal(turns.hasEarlier('b@example.test', newcomer), false, 'another identifier has its own line');
    turns.release('b@example.test', false);
    let done = false;
    void waiting.then(() => (done = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(done, false, 'a release for another identifier wakes nobody here');
    turns.release('a@example.test', false);
    await waiting;
    assert.equal(turns.hasEarlier('a@example.test', newcomer), false, 'the line is empty again');
  });

  it('lets a timer wake a waiter (an attempt settled in another instance), which keeps its place when it waits again', async () => {
    const turns = new Turns();
    const early = turns.ticket();
    const late = turns.ticket();
    const lateWait = turns.wait('a@example.test', late, LONG);
    await turns.wait('a@example.test', early, 5); // woken by its timer
    const order: string[] = [];
    const again = turns.wait('a@example.test', early, LONG).then(() => order.push('early'));
    void lateWait.then(() => order.push('late'));
    turns.release('a@example.test', false);
    await again;
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(order, ['early'], 'back from its timer, the earlier ticket is still first');
    turns.release('a@example.test', false);
    await lateWait;
    assert.deepEqual(order, ['early', 'late']);
  });
});
