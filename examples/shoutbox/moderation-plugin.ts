/** Example provider plugin: masks blocked words. Its options come from config or the environment. */
import * as v from 'valibot';
import { definePlugin } from '../../core/index.ts';
import { moderationServiceRef, type ModerationService } from './contract.ts';

export const moderationPlugin = definePlugin({
  id: 'moderation',
  version: '1.0.0',
  kernel: '^0.1.0',
  description: 'Masks blocked words (example provider)',
  config: v.strictObject({
    blockedWords: v.optional(v.array(v.pipe(v.string(), v.minLength(1))), ['spam']),
  }),
  fromEnv: (env) => (env.MODERATION_BLOCKED_WORDS ? { blockedWords: env.MODERATION_BLOCKED_WORDS.split(',') } : {}),
  provides: { moderation: moderationServiceRef },
  init(ctx) {
    const blocked = new RegExp(`\\b(${ctx.config.blockedWords.map(escape).join('|')})\\b`, 'gi');
    const moderation: ModerationService = {
      clean(text) {
        const cleaned = text.replace(blocked, (word) => '*'.repeat(word.length));
        return { text: cleaned, masked: cleaned !== text };
      },
    };
    return { services: { moderation } };
  },
});

function escape(word: string): string {
  return word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
