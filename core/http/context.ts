/** The request context route handlers receive: Koa's context with typed state. */
import type { ParameterizedContext } from 'koa';
import type { SqlEntityManager } from '@mikro-orm/sql';
import type { Logger } from '../logging/logger.ts';

export interface RequestState<Body = unknown> {
  /** The id echoed in `X-Request-Id` and present on every log line of this request. */
  readonly requestId: string;
  /** W3C `traceparent` of the caller, when it sent a well-formed one. */
  readonly traceparent: string | undefined;
  /**
   * True when the request reached us over TLS: directly, or per a trusted proxy's
   * `X-Forwarded-Proto`. (Koa 3's `ctx.origin` is the caller's Origin header, not ours.)
   */
  readonly secure: boolean;
  /** Logger bound to this request (request id, traceparent). */
  readonly log: Logger;
  /** The parsed and validated JSON body (undefined when the request had none). */
  body: Body;
  /** Aborted when the request's time budget runs out or the client goes away. */
  readonly signal: AbortSignal;
  /** A request-scoped EntityManager fork, created on first use. */
  readonly em: SqlEntityManager;
  /** Other plugins' per-request data (e.g. the authenticated user), keyed by plugin. */
  [key: string]: unknown;
}

export type HttpContext<Body = unknown> = ParameterizedContext<RequestState<Body>, { params: Record<string, string> }>;
