/**
 * The router a plugin registers its routes with. It records route definitions (so the kernel can
 * detect conflicts, list routes and describe them) instead of touching Koa directly; the kernel
 * mounts the recorded routes with the core's per-route body parsing and time budget.
 */
import type * as v from 'valibot';
import type { HttpContext, RawParams, RawQuery } from './context.ts';
import type { RouteMetaEntry } from './route-meta.ts';
import { isUploadBody, type MultipartBody, type MultipartBodyOptions, type StreamBodyOptions, type UploadBody } from './body/kinds.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export type BodySchema = v.GenericSchema<unknown, unknown>;

/** What a route's `body` may be: a valibot schema (a JSON body), or `streamBody(…)` / `multipartBody(…)`. */
export type RouteBody = BodySchema | UploadBody;

/**
 * valibot schema for a route's query string. Values arrive as strings (an array for a repeated
 * key), so convert in the schema: `v.pipe(v.string(), v.toNumber(), v.integer())`.
 */
export type QuerySchema = v.GenericSchema<Readonly<Record<string, string | readonly string[] | undefined>>, unknown>;

/** valibot schema for a route's path parameters (strings, as the router decodes them). */
export type ParamsSchema = v.GenericSchema<Readonly<Record<string, string | undefined>>, unknown>;

/** A success response as a route declares it (`responses: { 200: { description, body } }`). */
export interface RouteResponse {
  readonly description: string;
  /** valibot schema of the JSON body. */
  readonly body?: BodySchema;
  /** Response headers the route sets, by name, with what each means. */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface RouteOptions<
  S extends RouteBody | undefined = undefined,
  Q extends QuerySchema | undefined = undefined,
  P extends ParamsSchema | undefined = undefined,
> {
  /**
   * The body and how it is read, which also types `http.state.body`:
   * - a valibot schema: a JSON body, parsed whole (at most `bodyLimitBytes`) and validated;
   *   failures answer 422 `validation_failed` with `errors`;
   * - `streamBody({ maxBytes, mediaTypes?, idleTimeoutMs? })`: a `ReadableStream<Uint8Array>` of
   *   the raw bytes, read as the handler pulls;
   * - `multipartBody({ maxFileBytes, maxFiles, maxFieldBytes, maxFields, maxTotalBytes, … })`: an
   *   async iterable of the `multipart/form-data` parts, file parts streamed.
   * Upload bodies (the last two) count the bytes actually read: past a limit the route answers 413
   * at that moment (a declared Content-Length over it is refused before reading), the handler's
   * stream errors with that problem and `http.state.signal` aborts. Only POST, PUT and PATCH.
   */
  readonly body?: S;
  /** JSON body size limit in bytes (default: the kernel's `bodyLimitBytes`); upload bodies carry their own. */
  readonly bodyLimitBytes?: number;
  /**
   * The route's time budget in milliseconds, for the whole request, body included: over it the
   * request answers 503 `request_timeout` with `Connection: close`, and `http.state.signal` aborts.
   * Default: the kernel's `requestTimeoutMs` (30 s); for upload routes one hour, since a large file
   * on a slow link needs longer. Upload routes also have an idle timeout (their body kind's
   * `idleTimeoutMs`, 30 s by default): the longest the client may send nothing while the route
   * waits for its bytes, answered the same way.
   */
  readonly timeoutMs?: number;
  /** One line for the route listing and the OpenAPI document. */
  readonly summary?: string;
  /** Longer notes for the OpenAPI document (behaviour clients rely on, differences from API.md). */
  readonly description?: string;
  /**
   * Success statuses and what they mean, for the OpenAPI document (default: `200: OK`): a
   * description, or `{ description, body?, headers? }` with a valibot schema of the JSON body and
   * the headers the route sets (name: meaning). Documentation only: answers are not checked.
   */
  readonly responses?: Readonly<Record<number, string | RouteResponse>>;
  /**
   * Problem codes this route may answer with, besides the pipeline's own. The OpenAPI document
   * lists them by status, as the core's and the enabled plugins' catalogues declare it.
   */
  readonly problems?: readonly string[];
  /**
   * valibot schema for the query string (`http.state.query` is its output); failures answer 422
   * `validation_failed` naming each parameter. Spread `paginationQuery` into it for lists.
   */
  readonly query?: Q;
  /** valibot schema for the path parameters (`http.state.params` is its output); failures answer 422. */
  readonly params?: P;
  /**
   * Who the route serves: `required` (it answers 401 without a session), `optional` (it uses a
   * session when the request carries one). Leave it out for routes that work without a session
   * (login, register, password reset): whatever credentials such a request carries, it is treated
   * as anonymous, so e.g. rate limits key it per client address, never per user.
   */
  readonly auth?: 'required' | 'optional';
  /**
   * Data other plugins read off this route (rate-limit groups, …), declared with keys from their
   * contracts: `meta: [rateLimit({ group: 'auth.login', limit: 20, windowSeconds: 300 })]`.
   */
  readonly meta?: readonly RouteMetaEntry<unknown>[];
}

/**
 * Runs before a route's body is read (after its time budget starts); throws an HttpProblem to
 * refuse the request. Plugins add guards through `coreServices.http` (e.g. rate limits).
 */
export type RouteGuard = (http: HttpContext, route: RouteDefinition) => Promise<void>;

type BodyOf<S> = S extends StreamBodyOptions
  ? ReadableStream<Uint8Array>
  : S extends MultipartBodyOptions
    ? MultipartBody
    : S extends BodySchema
      ? v.InferOutput<S>
      : unknown;
type QueryOf<Q> = Q extends QuerySchema ? v.InferOutput<Q> : RawQuery;
type ParamsOf<P> = P extends ParamsSchema ? v.InferOutput<P> : RawParams;

export type RouteHandler<Body = unknown, Query = unknown, Params = unknown> = (ctx: HttpContext<Body, Query, Params>) => unknown;

export interface RouteDefinition {
  readonly plugin: string;
  readonly method: HttpMethod;
  readonly path: string;
  /** The route's options; `body` here is only ever a JSON schema (an upload body is in `upload`). */
  readonly options: RouteOptions<BodySchema | undefined, QuerySchema | undefined, ParamsSchema | undefined>;
  /** The route's upload body kind (`streamBody` / `multipartBody`), when it has one. */
  readonly upload?: UploadBody;
  readonly handler: RouteHandler<unknown>;
}

type RouteMethod = {
  (path: string, handler: RouteHandler<unknown, RawQuery, RawParams>): void;
  <S extends RouteBody | undefined = undefined, Q extends QuerySchema | undefined = undefined, P extends ParamsSchema | undefined = undefined>(
    path: string,
    options: RouteOptions<S, Q, P>,
    handler: RouteHandler<BodyOf<S>, QueryOf<Q>, ParamsOf<P>>,
  ): void;
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
    ((path: string, a: RouteOptions<RouteBody | undefined> | RouteHandler, b?: RouteHandler): void => {
      const [given, handler] = typeof a === 'function' ? [{}, a] : [a, b!];
      if (!path.startsWith('/')) return reject(`route ${m} ${path} must start with "/"`);
      if (!prefixes.some((p) => path === p || path.startsWith(p.endsWith('/') ? p : `${p}/`))) {
        return reject(`route ${m} ${path} is outside the plugin's prefixes (${prefixes.join(', ')})`);
      }
      // An upload body kind travels apart from `options.body`, which readers of route definitions
      // (OpenAPI, listings) take for a JSON schema.
      const { body, ...rest } = given;
      if (isUploadBody(body)) {
        if (m === 'GET' || m === 'DELETE') return reject(`route ${m} ${path} cannot take an upload body (POST, PUT or PATCH only)`);
        if (rest.bodyLimitBytes !== undefined) {
          return reject(`route ${m} ${path} sets bodyLimitBytes with an upload body; set the limits in ${body.kind}Body(…)`);
        }
        record({ plugin, method: m, path, options: rest, upload: body, handler: handler as RouteHandler<unknown> });
        return;
      }
      record({ plugin, method: m, path, options: { ...rest, body }, handler: handler as RouteHandler<unknown> });
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
