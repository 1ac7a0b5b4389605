/**
 * Plugins that each break one rule of the conformance suite, and the suite run for them.
 * test/conformance-suite.test.ts runs this file in a child process and checks that exactly the
 * expected checks fail (a test file of its own would fail `npm test`).
 */
import { defineEntity, p } from '@mikro-orm/core';
import { createServiceRef, definePlugin, Migration } from '../../core/index.ts';
import { pluginConformance } from '../../host/testing.ts';

// A table without the plugin's prefix, which its down migration forgets.
class MessyInit extends Migration {
  override up(): void {
    this.addSql('create table messy_things (id int primary key)');
    this.addSql('create table if not exists widgets (id int primary key)');
  }
  override down(): void {
    this.addSql('drop table messy_things');
  }
}
pluginConformance(definePlugin({ id: 'messy', version: '1.0.0', migrations: [{ name: 'messy/0001_init', class: MessyInit }] }));

// An entity that says varchar(50) where the migration creates text.
const Item = defineEntity({
  name: 'DriftItem',
  tableName: 'drift_items',
  properties: { id: p.integer().primary(), name: p.string().length(50) },
});
class DriftInit extends Migration {
  override up(): void {
    this.addSql('create table drift_items (id int primary key, name text not null)');
  }
  override down(): void {
    this.addSql('drop table drift_items');
  }
}
pluginConformance(definePlugin({ id: 'drift', version: '1.0.0', entities: [Item], migrations: [{ name: 'drift/0001_init', class: DriftInit }] }));

// A plain-SQL table the plugin does not declare in `tables`, and a declared one nothing creates.
class HiddenInit extends Migration {
  override up(): void {
    this.addSql('create table hidden_rows (id int primary key)');
  }
  override down(): void {
    this.addSql('drop table hidden_rows');
  }
}
pluginConformance(definePlugin({ id: 'hidden', version: '1.0.0', migrations: [{ name: 'hidden/0001_init', class: HiddenInit }] }));
pluginConformance(definePlugin({ id: 'phantom', version: '1.0.0', tables: ['phantom_rows'] }));

// A stop that outlasts the plugin's own stop timeout.
pluginConformance(
  definePlugin({
    id: 'sluggish',
    version: '1.0.0',
    stop: () => new Promise((resolve) => setTimeout(resolve, 400)),
    timeouts: { stop: 100 },
  }),
  { stopMarginMs: 1_000 },
);

// One service object for every kernel in the process.
const sharedRef = createServiceRef<{ readonly count: number }>('singleton.counter');
const shared = { count: 0 };
pluginConformance(
  definePlugin({ id: 'singleton', version: '1.0.0', provides: { counter: sharedRef }, init: () => ({ services: { counter: shared } }) }),
);

// A dependency nothing uses.
const extraRef = createServiceRef<{ readonly x: number }>('extra.thing');
const extra = definePlugin({ id: 'extra', version: '1.0.0', provides: { thing: extraRef }, init: () => ({ services: { thing: { x: 1 } } }) });
pluginConformance(definePlugin({ id: 'loner', version: '1.0.0' }), { dependencies: [extra] });
