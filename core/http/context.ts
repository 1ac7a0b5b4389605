/** The request context route handlers receive: Koa's context with typed state. */
import type { ParameterizedContext } from 'koa';
import type { SqlEntityManager } from '@mikro-orm/sql';
import type { Logger } from '../logging/logger.ts';

/** The query string as Koa parses it: values are strings, a repeated key gives an array. */
export type RawQuery = Readonly<Record<string, string | string[] | undefined>>;

/** Path parameters as the router decodes them. */
export type RawParams = Readonly<Record<string, string>>;

export interface RequestState<Body = unknown, Query = unknown, Params = unknown> {
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
  /**
   * The query string: the output of the route's `query` schema, or the parsed query when the
   * route declares none (every value is checked for control characters either way). Set after
   * the route's guards, before its body is read.
   */
  query: Query;
  /** The path parameters: the output of the route's `params` schema, or the decoded parameters. */
  params: Params;
  /** Aborted when the request's time budget runs out or the client goes away. */
  readonly signal: AbortSignal;
  /** A request-scoped EntityManager fork, created on first use. */
  readonly em: SqlEntityManager;
  /** Other plugins' per-request data (e.g. the authenticated user), keyed by plugin. */
  [key: string]: unknown;
}

export type HttpContext<Body = unknown, Query = unknown, Params = unknown> = ParameterizedContext<
  RequestState<Body, Query, Params>,
  { params: Record<string, string> }
>;
