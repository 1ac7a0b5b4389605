/**
 * Typed hooks: an event emitted inside a transaction reaches subscribers only after that
 * transaction commits (never when it rolls back); one failing subscriber does not affect the
 * others; `kernel.hooksSettled()` waits for every delivery.
 */
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { defineEntity, p } from '@mikro-orm/core';
import { defineHook, definePlugin, Migration, type PluginContext } from '../core/index.ts';
import { createTestKernel, type TestKernel } from '../host/testing.ts';
import { captureLogger } from './support/capture-logger.ts';

const Note = defineEntity({
  name: 'NotesNote',
  tableName: 'notes_notes',
  properties: {
    id: p.uuid().primary(),
    body: p.string(),
  },
});

class NotesInit extends Migration {
  override up(): void {
    this.addSql('create table notes_notes (id uuid primary key, body text not null)');
  }

  override down(): void {
    this.addSql('drop table notes_notes');
  }
}

const noteCreated = defineHook<{ id: string }>('notes.note.created');
const noteTouched = defineHook<{ id: string }>('notes.note.touched');
const noteAudited = defineHook<{ id: string }>('notes.note.audited');

/** Compile-time only (never called): payloads are typed by their hook. */
export function emitIsTyped(ctx: PluginContext<{}, {}>): void {
  // @ts-expect-error: notes.note.created carries `{ id: string }`
  ctx.emit(noteCreated, { id: 42 });
  // @ts-expect-error: a payload without its id
  ctx.emit(noteCreated, {});
}

/** What the subscribers saw, in order of completion. */
interface Delivery {
  readonly by: string;
  readonly hook: string;
  readonly id: string;
  /** The note's body as a fresh EntityManager reads it during delivery (null: not visible). */
  readonly body?: string | null;
}
const deliveries: Delivery[] = [];
const deliveriesOf = (id: string) => deliveries.filter((d) => d.id === id);

/** The notes plugin's context, captured at start so tests can emit from it directly. */
let notes: PluginContext<{}, {}> | undefined;
const notesCtx = () => notes ?? assert.fail('the notes plugin has not started');

const notesPlugin = definePlugin({
  id: 'notes',
  version: '1.0.0',
  entities: [Note],
  migrations: [{ name: 'notes/0001_init', class: NotesInit }],
  start(ctx) {
    notes = ctx;
  },
});

// Listed before the healthy subscriber, so its failure comes first.
const brokenPlugin = definePlugin({
  id: 'broken',
  version: '1.0.0',
  hooks: (on) => [
    on(noteCreated, async (payload) => {
      if (payload.id.startsWith('f')) throw new Error('subscriber exploded');
    }),
  ],
});

const auditPlugin = definePlugin({
  id: 'audit',
  version: '1.0.0',
  hooks: (on) => [
    on(noteCreated, async ({ id }, ctx) => {
      const row = await ctx.db.em().findOne(Note, { id });
      deliveries.push({ by: ctx.pluginId, hook: 'created', id, body: row?.body ?? null });
    }),
    on(noteTouched, async ({ id }, ctx) => {
      await new Promise((resolve) => setTimeout(resolve, 50));
      deliveries.push({ by: ctx.pluginId, hook: 'touched', id });
      ctx.emit(noteAudited, { id });
    }),
    on(noteAudited, async ({ id }, ctx) => {
      await new Promise((resolve) => setTimeout(resolve, 50));
      deliveries.push({ by: ctx.pluginId, hook: 'audited', id });
    }),
  ],
});

/** Ids whose first character picks the broken subscriber's behaviour (`f…` fails). */
const newId = (fail = false) => {
  const id = crypto.randomUUID();
  return fail ? `f${id.slice(1)}` : `0${id.slice(1)}`;
};

const countRows = async (id: string) => notesCtx().db.em().count(Note, { id });

describe('hooks', () => {
  let t: TestKernel;
  const logs = captureLogger('info');

  before(async () => {
    t = await createTestKernel({ plugins: [notesPlugin, brokenPlugin, auditPlugin], logger: logs.logger });
  });
  after(() => t.close());
  beforeEach(() => t.kernel.hooksSettled());

  it('delivers an event emitted in a transaction only after the commit', async () => {
    const ctx = notesCtx();
    const id = newId();
    await ctx.db.transactional(async (em) => {
      em.create(Note, { id, body: 'committed body' });
      await em.flush();
      ctx.emit(noteCreated, { id }, { em });
      assert.equal(await em.count(Note, { id }), 1, 'the row exists inside the transaction');
      // A premature delivery would be in flight now: wait for it before looking.
      await t.kernel.hooksSettled();
      assert.deepEqual(deliveriesOf(id), [], 'not delivered before the commit');
    });
    await t.kernel.hooksSettled();
    assert.deepEqual(deliveriesOf(id), [{ by: 'audit', hook: 'created', id, body: 'committed body' }]);
  });

  it('never delivers an event whose transaction rolled back', async () => {
    const ctx = notesCtx();
    const id = newId();
    await assert.rejects(
      ctx.db.transactional(async (em) => {
        em.create(Note, { id, body: 'doomed' });
        await em.flush();
        ctx.emit(noteCreated, { id }, { em });
        throw new Error('changed my mind');
      }),
      /changed my mind/,
    );
    await t.kernel.hooksSettled();
    assert.equal(await countRows(id), 0, 'the row was rolled back');
    assert.deepEqual(deliveriesOf(id), []);
  });

  it('delivers an event from a nested transaction only after the outer commit', async () => {
    const ctx = notesCtx();
    const id = newId();
    let beforeOuterCommit: Delivery[] = [];
    await ctx.db.transactional(async (outer) => {
      await outer.transactional(async (inner) => {
        inner.create(Note, { id, body: 'nested body' });
        await inner.flush();
        ctx.emit(noteCreated, { id }, { em: inner });
      });
      await t.kernel.hooksSettled();
      beforeOuterCommit = deliveriesOf(id);
    });
    await t.kernel.hooksSettled();
    assert.deepEqual(beforeOuterCommit, [], 'delivered when only the inner transaction (a savepoint) was released');
    assert.deepEqual(deliveriesOf(id), [{ by: 'audit', hook: 'created', id, body: 'nested body' }]);
  });

  it('never delivers an event from a nested transaction whose outer transaction rolled back', async () => {
    const ctx = notesCtx();
    const id = newId();
    await assert.rejects(
      ctx.db.transactional(async (outer) => {
        await outer.transactional(async (inner) => {
          inner.create(Note, { id, body: 'nested' });
          await inner.flush();
          ctx.emit(noteCreated, { id }, { em: inner });
        });
        throw new Error('outer fails');
      }),
      /outer fails/,
    );
    await t.kernel.hooksSettled();
    assert.equal(await countRows(id), 0, 'the row was rolled back');
    assert.deepEqual(deliveriesOf(id), [], 'an event of rolled-back data was delivered');
  });

  it('delivers an event emitted outside a transaction', async () => {
    const ctx = notesCtx();
    const plain = newId();
    ctx.emit(noteCreated, { id: plain });
    const withIdleEm = newId();
    ctx.emit(noteCreated, { id: withIdleEm }, { em: ctx.db.em() });
    await t.kernel.hooksSettled();
    assert.deepEqual(deliveriesOf(plain), [{ by: 'audit', hook: 'created', id: plain, body: null }]);
    assert.deepEqual(deliveriesOf(withIdleEm), [{ by: 'audit', hook: 'created', id: withIdleEm, body: null }]);
  });

  it('keeps delivering to other subscribers when one fails, and logs the failure', async () => {
    const ctx = notesCtx();
    const id = newId(true);
    ctx.emit(noteCreated, { id });
    await t.kernel.hooksSettled();
    assert.deepEqual(deliveriesOf(id), [{ by: 'audit', hook: 'created', id, body: null }]);
    const failure = logs.lines.find((l) => l.msg === 'hook handler failed' && l.plugin === 'broken');
    assert.ok(failure, 'the failing subscriber is logged');
    assert.equal(failure.hook, 'notes.note.created');
    assert.equal((failure.err as { message?: string }).message, 'subscriber exploded');
    // later events still reach everyone
    const next = newId();
    ctx.emit(noteCreated, { id: next });
    await t.kernel.hooksSettled();
    assert.equal(deliveriesOf(next).length, 1);
  });

  it('hooksSettled() waits for deliveries, including those started by deliveries', async () => {
    const ctx = notesCtx();
    const id = newId();
    ctx.emit(noteTouched, { id });
    assert.deepEqual(deliveriesOf(id), [], 'delivery runs after the emitter’s code');
    await t.kernel.hooksSettled();
    assert.deepEqual(
      deliveriesOf(id).map((d) => d.hook),
      ['touched', 'audited'],
    );
  });

  it('rejects a hook id that is not dotted lower-case words', () => {
    assert.throws(() => defineHook('NoteCreated'), TypeError);
    assert.throws(() => defineHook('created'), TypeError);
    assert.equal(defineHook<{ id: string }>('notes.created').id, 'notes.created');
  });
});
