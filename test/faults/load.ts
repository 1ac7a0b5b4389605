/**
 * Closed-loop HTTP load for the fault scenarios: clients that each send one request at a time
 * until told to stop, every answer sorted by status, with the slowest latency kept (to show no
 * request hung past its time budget).
 */
export interface Answer {
  readonly status: number;
  readonly retryAfter: string | null;
  readonly code: string | undefined;
  readonly body: unknown;
  readonly ms: number;
}

export class Tally {
  readonly byOutcome: Record<string, number> = {};
  requests = 0;
  slowestMs = 0;
  /** Answers that are neither 2xx/4xx the scenario expects nor 503 with Retry-After. */
  readonly unexpected: Answer[] = [];

  count(answer: Answer, expected: (a: Answer) => boolean): void {
    this.requests++;
    this.slowestMs = Math.max(this.slowestMs, answer.ms);
    const key = answer.status === 503 ? `503 ${answer.code ?? ''}`.trim() : `${answer.status}`;
    this.byOutcome[key] = (this.byOutcome[key] ?? 0) + 1;
    const unavailable = answer.status === 503 && answer.code === 'service_unavailable' && answer.retryAfter !== null;
    if (!unavailable && !expected(answer)) this.unexpected.push(answer);
  }
}

/** One JSON request; a client-side timeout (past any server budget) is answered as status 0. */
export async function send(url: string, init: { method?: string; body?: unknown; headers?: Record<string, string>; timeoutMs?: number }): Promise<Answer> {
  const started = performance.now();
  try {
    const res = await fetch(url, {
      method: init.method ?? 'POST',
      headers: { 'content-type': 'application/json', ...init.headers },
      ...(init.body !== undefined && { body: JSON.stringify(init.body) }),
      signal: AbortSignal.timeout(init.timeoutMs ?? 40_000),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: kept as text
    }
    const code = typeof body === 'object' && body !== null && 'code' in body ? String((body as { code: unknown }).code) : undefined;
    return { status: res.status, retryAfter: res.headers.get('retry-after'), code, body, ms: performance.now() - started };
  } catch (err) {
    return { status: 0, retryAfter: null, code: err instanceof Error ? err.name : 'error', body: String(err), ms: performance.now() - started };
  }
}

/** Runs `client(i, stopped)` for i in 0..n-1 until `stop()` is called; resolves when all returned. */
export function clients(n: number, client: (i: number, stopped: () => boolean) => Promise<void>): { stop(): void; done: Promise<void> } {
  let stopped = false;
  const done = Promise.all(Array.from({ length: n }, (_, i) => client(i, () => stopped))).then(() => undefined);
  return { stop: () => void (stopped = true), done };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
