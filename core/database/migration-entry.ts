/**
 * A named migration, as plugins list them. Names are explicit (`<plugin>/<nnnn>_<what>`) so
 * bundlers and Deno need no file globbing and minified class names never matter.
 */
import type { MigrationObject } from '@mikro-orm/core';

export type MigrationEntry = MigrationObject;

export { Migration } from '@mikro-orm/migrations';
