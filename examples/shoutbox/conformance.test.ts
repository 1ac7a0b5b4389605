/**
 * The conformance suite every plugin passes (migrations up/down/up, entities matching migrations,
 * id-prefixed tables and migrations, routes under the plugin's prefixes, booting with only its
 * dependencies, two kernels side by side, stopping within its timeout), run for both example
 * plugins. The shoutbox's dependency is a fake here: a plugin author needs no provider to run it.
 */
import { pluginConformance, fake } from '../../host/testing.ts';
import { moderationServiceRef } from './contract.ts';
import { moderationPlugin } from './moderation-plugin.ts';
import { shoutboxPlugin } from './shoutbox-plugin.ts';

pluginConformance(shoutboxPlugin, {
  dependencies: [fake(moderationServiceRef, { clean: (text) => ({ text, masked: false }) })],
});
pluginConformance(moderationPlugin, { config: { blockedWords: ['darn'] } });
