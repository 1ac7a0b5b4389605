/**
 * The router a plugin registers its routes with. It records route definitions (so the kernel can
 * detect conflicts, list routes and describe them) instead of touching Koa directly; the kernel
 * mounts the recorded routes with the core's per-route body parsing and time budget.
 */
import type * as v from 'valibot';
import type { HttpContext } from './context.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export type BodySchema = v.GenericSchema<unknown, unknown>;

export interface RouteOptions<S extends BodySchema | undefined = undefined> {
  /** valibot schema for the JSON body; failures answer 422 `validation_failed` with `errors`. */
  readonly body?: S;
  /** Leave the body stream untouched (uploads): no JSON parsing, no 415. */
  readonly rawBody?: boolean;
  /** Body size limit in bytes (default: the kernel's `bodyLimitBytes`). */
  readonly bodyLimitBytes?: number;
  /** Time budget in milliseconds; over it the request answers 503 `request_timeout`. */
  readonly timeoutMs?: number;
  /** One line for the route listing and the OpenAPI document. */
  readonly summary?: string;
  /** Longer notes for the OpenAPI document (behaviour clients rely on, differences from API.md). */
  readonly description?: string;
  /** Success statuses and what they mean, for the OpenAPI document (default: `200: OK`). */
  readonly responses?: Readonly<Record<number, string>>;
  /** Problem codes this route may answer with, besides the pipeline's own. */
  readonly problems?: readonly string[];
  /**
   * Who the route serves: `required` (it answers 401 without a session), `optional` (it uses a
   * session when the request carries one). Leave it out for routes that work without a session
   * (login, register, password reset): whatever credentials such a request carries, it is treated
   * as anonymous, so e.g. rate limits key it per client address, never per user.
   */
  readonly auth?: 'required' | 'optional';
  /**
   * The rate-limit policy this route belongs to (enforced when the ratelimit plugin is on):
   * a group name and its default limit; operators override limits by group name. `false`
   * exempts the route (health probes); without it the route is in the `default` group.
   */
  readonly rateLimit?: RateLimitDeclaration | false;
}

export interface RateLimitDeclaration {
  /** Routes sharing a group share one budget per client, e.g. `auth.login`. */
  readonly group: string;
  readonly limit: number;
  readonly windowSeconds: number;
}

/**
 * Runs before a route's body is read (after its time budget starts); throws an HttpProblem to
 * refuse the request. Plugins add guards through `coreServices.http` (e.g. rate limits).
 */
export type RouteGuard = (http: HttpContext, route: RouteDefinition) => Promise<void>;

type BodyOf<S> = S extends BodySchema ? v.InferOutput<S> : unknown;

export type RouteHandler<Body = unknown> = (ctx: HttpContext<Body>) => unknown;

export interface RouteDefinition {
  readonly plugin: string;
  readonly method: HttpMethod;
  readonly path: string;
  readonly options: RouteOptions<BodySchema | undefined>;
  readonly handler: RouteHandler<unknown>;
}

type RouteMethod = {
  (path: string, handler: RouteHandler): void;
  <S extends BodySchema | undefined>(path: string, options: RouteOptions<S>, handler: RouteHandler<BodyOf<S>>): void;
};

export interface PluginRouter {
  readonly get: RouteMethod;
  readonly post: RouteMethod;
  readonly put: RouteMethod;
  readonly patch: RouteMethod;
  readonly delete: RouteMethod;
}

/** Makes a recording router for one plugin; paths must lie under one of its prefixes. */
export function createPluginRouter(
  plugin: string,
  prefixes: readonly string[],
  record: (route: RouteDefinition) => void,
  reject: (message: string) => void,
): PluginRouter {
  const method = (m: HttpMethod): RouteMethod =>
    ((path: string, a: RouteOptions<BodySchema | undefined> | RouteHandler, b?: RouteHandler): void => {
      const [options, handler] = typeof a === 'function' ? [{}, a] : [a, b!];
      if (!path.startsWith('/')) return reject(`route ${m} ${path} must start with "/"`);
      if (!prefixes.some((p) => path === p || path.startsWith(p.endsWith('/') ? p : `${p}/`))) {
        return reject(`route ${m} ${path} is outside the plugin's prefixes (${prefixes.join(', ')})`);
      }
      record({ plugin, method: m, path, options, handler: handler as RouteHandler<unknown> });
    }) as RouteMethod;
  return { get: method('GET'), post: method('POST'), put: method('PUT'), patch: method('PATCH'), delete: method('DELETE') };
}

/**
 * Two routes conflict when they match the same requests: same method, same path up to parameter
 * and wildcard names, letter case (the router matches case-insensitively) and a trailing slash.
 */
export function routeKey(route: Pick<RouteDefinition, 'method' | 'path'>): string {
  const path = route.path
    .replace(/:[A-Za-z0-9_$]+/g, ':')
    .replace(/\*[A-Za-z0-9_$]+/g, '*')
    .replace(/\/+$/, '')
    .toLowerCase();
  return `${route.method} ${path || '/'}`;
}
