/**
 * Per-request state. A class with lazy getters, so requests that never log, never touch the
 * database and never need a signal (health probes) pay for none of it.
 */
import type { SqlEntityManager } from '@mikro-orm/sql';
import type { Logger } from '../logging/logger.ts';
import type { RequestState } from './context.ts';

export class LazyRequestState implements RequestState {
  [key: string]: unknown;
  readonly requestId: string;
  readonly traceparent: string | undefined;
  body: unknown = undefined;
  query: unknown = undefined;
  params: unknown = undefined;
  secure = false;
  #log: Logger | undefined;
  #em: SqlEntityManager | undefined;
  #controller: AbortController | undefined;
  readonly #rootLogger: Logger;
  readonly #forkEm: () => SqlEntityManager;

  constructor(requestId: string, traceparent: string | undefined, rootLogger: Logger, forkEm: () => SqlEntityManager) {
    this.requestId = requestId;
    this.traceparent = traceparent;
    this.#rootLogger = rootLogger;
    this.#forkEm = forkEm;
  }

  get log(): Logger {
    return (this.#log ??= this.#rootLogger.child(
      this.traceparent === undefined ? { requestId: this.requestId } : { requestId: this.requestId, traceparent: this.traceparent },
    ));
  }

  get em(): SqlEntityManager {
    return (this.#em ??= this.#forkEm());
  }

  get signal(): AbortSignal {
    return (this.#controller ??= new AbortController()).signal;
  }

  /** Aborts the request's signal (time budget spent, or the client went away). */
  abort(reason: unknown): void {
    (this.#controller ??= new AbortController()).abort(reason);
  }
}
