/**
 * Readiness checks from every plugin (and the kernel's own database check), run in parallel with
 * a deadline each. Readiness also fails as soon as shutdown begins, so load balancers stop
 * sending traffic before the server stops accepting it.
 */
export type CheckStatus = 'ok' | 'degraded' | 'fail';

/** What a check may report besides success: `degraded` keeps readiness up but says why. */
export type CheckOutcome = void | { readonly degraded: string };

export interface CheckReport {
  readonly status: CheckStatus;
  readonly latencyMs: number;
  readonly error?: string;
}

export interface ReadinessReport {
  readonly status: 'ok' | 'fail';
  readonly checks: Readonly<Record<string, CheckReport>>;
}

export interface HealthService {
  /** Runs every check; `fail` if any failed or shutdown has begun. */
  readiness(): Promise<ReadinessReport>;
  /** True from the moment shutdown begins. */
  isShuttingDown(): boolean;
}

type CheckFn = (signal: AbortSignal) => Promise<CheckOutcome>;

export class HealthRegistry implements HealthService {
  readonly #checks = new Map<string, CheckFn>();
  #shuttingDown = false;
  readonly #timeoutMs: number;

  constructor(timeoutMs = 2000) {
    this.#timeoutMs = timeoutMs;
  }

  add(name: string, check: CheckFn): void {
    if (this.#checks.has(name)) throw new Error(`health check "${name}" is registered twice`);
    this.#checks.set(name, check);
  }

  names(): string[] {
    return [...this.#checks.keys()];
  }

  markShuttingDown(): void {
    this.#shuttingDown = true;
  }

  isShuttingDown(): boolean {
    return this.#shuttingDown;
  }

  async readiness(): Promise<ReadinessReport> {
    if (this.#shuttingDown) {
      // Answer at once: a load balancer must stop routing here now, not after a slow check.
      const checks = Object.fromEntries([...this.#checks.keys()].map((name) => [name, { status: 'fail' as const, latencyMs: 0, error: 'shutting down' }]));
      return { status: 'fail', checks };
    }
    const entries = await Promise.all([...this.#checks].map(async ([name, check]) => [name, await this.#run(check)] as const));
    const checks = Object.fromEntries(entries);
    const failed = entries.some(([, r]) => r.status === 'fail');
    return { status: failed ? 'fail' : 'ok', checks };
  }

  async #run(check: CheckFn): Promise<CheckReport> {
    const started = performance.now();
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const latency = () => Math.round((performance.now() - started) * 10) / 10;
    try {
      const outcome = await Promise.race([
        check(controller.signal),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            controller.abort();
            reject(new Error(`timed out after ${this.#timeoutMs} ms`));
          }, this.#timeoutMs);
        }),
      ]);
      return outcome
        ? { status: 'degraded', latencyMs: latency(), error: withoutCredentials(outcome.degraded) }
        : { status: 'ok', latencyMs: latency() };
    } catch (err) {
      return { status: 'fail', latencyMs: latency(), error: withoutCredentials(err instanceof Error ? err.message : String(err)) };
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Error texts of drivers sometimes quote the URL they tried; never show its credentials. */
function withoutCredentials(message: string): string {
  return message.replace(/\/\/[^/@\s]+@/g, '//[redacted]@');
}
