/**
 * One error line per outage, not a stack trace per request: the first refusal caused by an
 * unreachable dependency is logged at `error`; while the outage lasts, a `warn` line every
 * `summaryIntervalMs` counts what was refused; when the dependency answers again (its probe
 * passes, or nothing was refused for a whole interval where there is no probe), an `info` line
 * says it is back, after how long, and how many requests and jobs were refused in all.
 */
import type { Logger } from '../logging/logger.ts';
import type { Outage } from './dependency-unavailable.ts';

export interface OutageLogOptions {
  readonly logger: Logger;
  /** How often an ongoing outage is summarised (and probed). */
  readonly summaryIntervalMs?: number;
  /** Checks whether a dependency answers again, by name (the kernel gives the database's ping). */
  readonly probes?: ReadonlyMap<string, () => Promise<void>>;
}

interface OpenOutage {
  readonly startedAt: number;
  refused: number;
  refusedSinceSummary: number;
  timer: ReturnType<typeof setTimeout> | undefined;
}

export class OutageLog {
  readonly #logger: Logger;
  readonly #intervalMs: number;
  readonly #probes: ReadonlyMap<string, () => Promise<void>>;
  readonly #open = new Map<string, OpenOutage>();
  #closed = false;

  constructor(options: OutageLogOptions) {
    this.#logger = options.logger;
    this.#intervalMs = options.summaryIntervalMs ?? 10_000;
    this.#probes = options.probes ?? new Map();
  }

  /** Counts one request or job refused because of `outage`; logs it if it opens an outage. */
  refused(outage: Outage, context: { readonly requestId?: string; readonly job?: string } = {}): void {
    const open = this.#open.get(outage.dependency);
    if (open) {
      open.refused++;
      open.refusedSinceSummary++;
      return;
    }
    this.#logger.error(
      { dependency: outage.dependency, cause: outage.cause, ...context },
      `${outage.dependency} is unavailable: answering 503 service_unavailable until it is back`,
    );
    const started: OpenOutage = { startedAt: Date.now(), refused: 1, refusedSinceSummary: 0, timer: undefined };
    this.#open.set(outage.dependency, started);
    this.#schedule(outage.dependency, started);
  }

  /** Dependencies now in an outage. */
  get open(): readonly string[] {
    return [...this.#open.keys()];
  }

  /** Stops the timers (the kernel is stopping); open outages are summarised once. */
  close(): void {
    this.#closed = true;
    for (const [dependency, open] of this.#open) {
      clearTimeout(open.timer);
      this.#logger.warn({ dependency, refused: open.refused, outageMs: Date.now() - open.startedAt }, `${dependency} was still unavailable at shutdown`);
    }
    this.#open.clear();
  }

  #schedule(dependency: string, open: OpenOutage): void {
    if (this.#closed) return;
    open.timer = setTimeout(() => void this.#summarise(dependency, open), this.#intervalMs);
    unrefTimer(open.timer);
  }

  async #summarise(dependency: string, open: OpenOutage): Promise<void> {
    const probe = this.#probes.get(dependency);
    const back = probe ? await probe().then(() => true, () => false) : open.refusedSinceSummary === 0;
    if (this.#closed || this.#open.get(dependency) !== open) return;
    const outageMs = Date.now() - open.startedAt;
    if (back) {
      this.#open.delete(dependency);
      this.#logger.info({ dependency, refused: open.refused, outageMs }, `${dependency} is available again`);
      return;
    }
    this.#logger.warn(
      { dependency, refused: open.refused, refusedSinceLast: open.refusedSinceSummary, outageMs },
      `${dependency} is still unavailable`,
    );
    open.refusedSinceSummary = 0;
    this.#schedule(dependency, open);
  }
}

/** Node's timers have `unref`; Deno's setTimeout returns a number (Deno.unrefTimer takes it). */
function unrefTimer(timer: ReturnType<typeof setTimeout>): void {
  if (typeof timer === 'object' && timer !== null && 'unref' in timer && typeof timer.unref === 'function') {
    timer.unref();
    return;
  }
  const deno = (globalThis as { Deno?: { unrefTimer?: (id: number) => void } }).Deno;
  if (typeof timer === 'number') deno?.unrefTimer?.(timer);
}
