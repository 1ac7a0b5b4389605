/** The shoutbox's one table. Table names carry the plugin id as prefix. */
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

export const ShoutboxMessage = defineEntity({
  name: 'ShoutboxMessage',
  tableName: 'shoutbox_messages',
  properties: {
    id: p.uuid().primary(),
    author: p.string().length(80),
    text: p.text(),
    masked: p.boolean(),
    createdAt: p.datetime(),
  },
});

export type ShoutboxMessage = InferEntity<typeof ShoutboxMessage>;
