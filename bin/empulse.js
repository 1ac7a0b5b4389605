#!/usr/bin/env node
// The `empulse` command. Runs host/node.ts with a Node that can run it: the current one when it
// is new enough (>= 22.18 strips TypeScript natively), otherwise the project's own Node from the
// `node` devDependency, so `npx empulse` works on machines whose system Node is older.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(root, 'host', 'node.ts');
const [major, minor] = process.versions.node.split('.').map(Number);
const modern = major > 22 || (major === 22 && minor >= 18);

if (modern) {
  process.argv = [process.argv[0], entry, ...process.argv.slice(2)];
  await import(entry);
} else {
  const bundled = join(root, 'node_modules', 'node', 'bin', 'node');
  if (!existsSync(bundled)) {
    console.error(`empulse needs Node >= 22.18 (this is ${process.versions.node}); run "npm ci" first to get the project's own Node.`);
    process.exit(1);
  }
  const result = spawnSync(bundled, [entry, ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(result.status ?? 1);
}
