/**
 * `npm run test:faults`: the fault-injection suite (test/faults/*.fault.ts). Each scenario runs
 * private PostgreSQL, Redis, SMTP and S3 peers of its own, stops or kills them under load, and
 * fails on any loss; one file at a time, since they stop and start servers and time outages.
 * Prints every scenario's report (what it injected, what it counted) as a table at the end.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FaultReport } from '../test/faults/fault-summary.ts';

const root = join(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'empulse-faults-'));
const reportFile = join(dir, 'reports.jsonl');
const files = process.argv.slice(2).length
  ? process.argv.slice(2)
  : readdirSync(join(root, 'test', 'faults'))
      .filter((f) => f.endsWith('.fault.ts'))
      .sort()
      .map((f) => join('test', 'faults', f));

const result = spawnSync('tsx', ['--test', '--test-concurrency=1', '--test-timeout=300000', ...files], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, EMPULSE_FAULT_REPORT: reportFile },
});

const reports = existsSync(reportFile)
  ? readFileSync(reportFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as FaultReport)
  : [];
rmSync(dir, { recursive: true, force: true });

console.log('\n## Fault scenarios\n');
console.log('| scenario | injected | requests | answers | losses |');
console.log('|---|---|---:|---|---:|');
for (const r of reports) {
  const answers = Object.entries(r.outcomes)
    .map(([k, n]) => `${k}: ${n}`)
    .join(', ');
  console.log(`| ${r.scenario} | ${r.injected}${r.notes ? ` (${r.notes})` : ''} | ${r.requests} | ${answers} | ${r.losses} |`);
}
const requests = reports.reduce((sum, r) => sum + r.requests, 0);
const losses = reports.reduce((sum, r) => sum + r.losses, 0);
console.log(`\n${reports.length} scenarios, ${requests} requests, losses: ${losses}`);
process.exit(result.status === 0 && losses === 0 ? 0 : 1);
