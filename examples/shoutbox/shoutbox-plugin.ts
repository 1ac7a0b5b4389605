/**
 * Example third-party plugin, the template to copy: an entity and its migration, validated
 * routes under its prefix (`/v1/shoutbox`), a consumed service, a hook, cursor pagination and
 * problem+json errors, all through the public API in core/index.ts.
 */
import * as v from 'valibot';
import { v7 as uuidv7 } from 'uuid';
import { coreProblems, defineHook, definePlugin, defineProblems } from '../../core/index.ts';
import { moderationServiceRef } from './contract.ts';
import { ShoutboxMessage } from './message-entity.ts';
import { shoutboxMigrations } from './migrations.ts';

/** Emitted after a message is saved (delivered once its transaction committed). */
export const messagePosted = defineHook<{ readonly id: string; readonly author: string }>('shoutbox.message.posted');

const problems = defineProblems({
  invalid_cursor: { status: 400, title: 'Invalid cursor' },
});

const PostMessage = v.strictObject({
  author: v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(80)),
  text: v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(500)),
});

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

    router.get('/v1/shoutbox/messages', { summary: 'List messages, newest first' }, async (http) => {
      const limit = Number(http.query.limit ?? 20);
      if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
        throw coreProblems.validation_failed('limit must be 1..100', { errors: [{ path: 'limit', message: 'must be an integer from 1 to 100' }] });
      }
      const cursor = typeof http.query.cursor === 'string' ? decodeCursor(http.query.cursor) : undefined;
      const rows = await http.state.em.find(
        ShoutboxMessage,
        cursor ? { id: { $lt: cursor } } : {},
        { orderBy: { id: 'desc' }, limit: limit + 1 },
      );
      const page = rows.slice(0, limit);
      http.body = {
        items: page.map(toJson),
        nextCursor: rows.length > limit ? encodeCursor(page[page.length - 1]!.id) : null,
      };
    });

    router.get('/v1/shoutbox/messages/:id', async (http) => {
      const id = http.params.id!;
      const message = /^[0-9a-f-]{36}$/.test(id) ? await http.state.em.findOne(ShoutboxMessage, { id }) : null;
      if (!message) throw coreProblems.not_found('No such message.');
      http.body = toJson(message);
    });
  },
});

/** Cursors are opaque to clients: base64url of the last id seen. */
function encodeCursor(id: string): string {
  return btoa(id).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function decodeCursor(cursor: string): string {
  try {
    const id = atob(cursor.replace(/-/g, '+').replace(/_/g, '/'));
    if (/^[0-9a-f-]{36}$/.test(id)) return id;
  } catch {
    // fall through
  }
  throw problems.invalid_cursor('The cursor is not one this service issued.');
}
