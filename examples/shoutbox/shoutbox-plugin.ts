/**
 * Example third-party plugin, the template to copy: an entity and its migration, validated
 * routes under its prefix (`/v1/shoutbox`) with body, query and params schemas, a consumed
 * service, per-plugin state, a hook, the core's signed cursor pagination and problem+json
 * errors, all through the public API in core/index.ts.
 */
import * as v from 'valibot';
import { v7 as uuidv7 } from 'uuid';
import { coreProblems, defineHook, definePlugin, page, paginationQuery } from '../../core/index.ts';
import { moderationServiceRef } from './contract.ts';
import { ShoutboxMessage } from './message-entity.ts';
import { shoutboxMigrations } from './migrations.ts';

/** Emitted after a message is saved (delivered once its transaction committed). */
export const messagePosted = defineHook<{ readonly id: string; readonly author: string }>('shoutbox.message.posted');

const PostMessage = v.strictObject({
  author: v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(80)),
  text: v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(500)),
});

const ListQuery = v.object({ ...paginationQuery });
const MessageParams = v.object({ id: v.pipe(v.string(), v.uuid('must be a message id')) });
/** What a cursor of the message list carries: the last id seen (ids are UUIDv7, so time-ordered). */
const Position = v.object({ id: v.pipe(v.string(), v.uuid()) });

const toJson = (m: ShoutboxMessage) => ({
  id: m.id,
  author: m.author,
  text: m.text,
  masked: m.masked,
  createdAt: m.createdAt.toISOString(),
});

export const shoutboxPlugin = definePlugin({
  id: 'shoutbox',
  version: '1.0.0',
  kernel: '^0.1.0',
  description: 'A tiny message board (example plugin)',
  requires: { moderation: moderationServiceRef },
  entities: [ShoutboxMessage],
  migrations: shoutboxMigrations,
  // Per-plugin state: one per kernel, created here, seen by routes, hooks, start and stop.
  init(ctx) {
    const state = { postedSinceStart: 0 };
    ctx.onStop(() => ctx.logger.info({ posted: state.postedSinceStart }, 'shoutbox stopped'));
    return { state };
  },
  hooks: (on) => [on(messagePosted, (_payload, ctx) => void (ctx.state.postedSinceStart += 1))],
  routes(router, ctx) {
    router.post('/v1/shoutbox/messages', { body: PostMessage, summary: 'Post a message' }, async (http) => {
      const { text, masked } = ctx.services.moderation.clean(http.state.body.text);
      const message = await ctx.db.transactional(async (em) => {
        const m = em.create(ShoutboxMessage, { id: uuidv7(), author: http.state.body.author, text, masked, createdAt: new Date() });
        ctx.emit(messagePosted, { id: m.id, author: m.author }, { em });
        return m;
      });
      http.status = 201;
      http.set('Location', `/v1/shoutbox/messages/${message.id}`);
      http.body = toJson(message);
    });

    router.get('/v1/shoutbox/messages', { query: ListQuery, summary: 'List messages, newest first' }, async (http) => {
      const { limit, cursor } = http.state.query;
      const scope = 'shoutbox.messages';
      const after = cursor === undefined ? undefined : await ctx.cursors.decode(cursor, scope, Position);
      const rows = await http.state.em.find(ShoutboxMessage, after ? { id: { $lt: after.id } } : {}, { orderBy: { id: 'desc' }, limit: limit + 1 });
      http.body = await page(rows, { limit, codec: ctx.cursors, scope, positionOf: (m) => ({ id: m.id }), map: toJson });
    });

    router.get('/v1/shoutbox/stats', { summary: 'Messages posted since this instance started' }, (http) => {
      http.body = { postedSinceStart: ctx.state.postedSinceStart };
    });

    router.get('/v1/shoutbox/messages/:id', { params: MessageParams }, async (http) => {
      const message = await http.state.em.findOne(ShoutboxMessage, { id: http.state.params.id });
      if (!message) throw coreProblems.not_found('No such message.');
      http.body = toJson(message);
    });
  },
});
