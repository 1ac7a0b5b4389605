/**
 * Where the machine's CPU goes during a run, read from Linux's /proc: the server's threads by
 * name (the event loop is `MainThread`, GC helpers `V8Worker`, argon2 and webcrypto run on
 * `libuv-worker`), every PostgreSQL process, and this process (the load generator). A wall-clock
 * CPU profile cannot give this on a saturated machine: it charges a descheduled thread's waiting
 * to whatever it was running. Returns undefined where /proc is missing.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';

export interface CpuShares {
  /** CPU milliseconds per completed request, by consumer, heaviest first. */
  readonly perRequestMs: readonly { readonly consumer: string; readonly ms: number }[];
  /** Share of all the machine's CPU time that was busy during the run. */
  readonly machineBusy: number;
}

interface Sample {
  readonly ticks: Map<string, number>;
  readonly busy: number;
  readonly total: number;
}

const TICK_MS = 10; // USER_HZ is 100 on every Linux that Node supports

export async function accountCpu<T>(serverPid: number, work: () => Promise<T>, requests: (result: T) => number): Promise<{ result: T; cpu: CpuShares | undefined }> {
  if (!existsSync(`/proc/${serverPid}/task`)) return { result: await work(), cpu: undefined };
  const before = sample(serverPid);
  const result = await work();
  const after = sample(serverPid);
  const n = Math.max(1, requests(result));
  const perRequestMs = [...after.ticks]
    .map(([consumer, t]) => ({ consumer, ms: ((t - (before.ticks.get(consumer) ?? 0)) * TICK_MS) / n }))
    .filter((c) => c.ms > 0)
    .sort((a, b) => b.ms - a.ms);
  return { result, cpu: { perRequestMs, machineBusy: (after.busy - before.busy) / Math.max(1, after.total - before.total) } };
}

function sample(serverPid: number): Sample {
  const ticks = new Map<string, number>();
  const add = (key: string, value: number) => ticks.set(key, (ticks.get(key) ?? 0) + value);
  for (const tid of readdirSync(`/proc/${serverPid}/task`)) {
    const stat = readStat(`/proc/${serverPid}/task/${tid}/stat`);
    if (stat) add(`server ${stat.name}`, stat.ticks);
  }
  for (const pid of postgresPids()) {
    const stat = readStat(`/proc/${pid}/stat`);
    if (stat) add('PostgreSQL', stat.ticks);
  }
  const self = readStat('/proc/self/stat');
  if (self) add('load generator', self.ticks);
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = cpu.reduce((a, b) => a + b, 0);
  return { ticks, busy: total - cpu[3]! - (cpu[4] ?? 0), total };
}

/** Name and user+system ticks of a /proc stat line (the name may hold spaces and parentheses). */
function readStat(path: string): { name: string; ticks: number } | undefined {
  try {
    const line = readFileSync(path, 'utf8');
    const fields = line.slice(line.lastIndexOf(')') + 2).split(' ');
    return { name: line.slice(line.indexOf('(') + 1, line.lastIndexOf(')')), ticks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return undefined; // the thread or process ended between listing and reading
  }
}

function postgresPids(): string[] {
  try {
    return execFileSync('pgrep', ['-x', 'postgres'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  } catch {
    return [];
  }
}
