/** The kernel's own migrations, applied before any plugin's. */
import type { MigrationEntry } from '../core/database/migration-entry.ts';
import { KernelPluginsLedger } from './0001_plugins_ledger.ts';
import { KernelKeys } from './0002_kernel_keys.ts';

export const kernelMigrations: readonly MigrationEntry[] = [
  { name: 'kernel/0001_plugins_ledger', class: KernelPluginsLedger },
  { name: 'kernel/0002_keys', class: KernelKeys },
];
