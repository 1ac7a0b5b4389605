/**
 * The core HTTP pipeline every request goes through, in this order: request id and per-request
 * state, problem+json error handling and the access log, security headers, CORS, then the routes
 * (each with its own time budget and body handling). Unknown paths answer 404 `not_found`,
 * known paths with another method 405 `method_not_allowed`.
 */
import Koa from 'koa';
import Router from '@koa/router';
import cors from '@koa/cors';
import helmet from 'koa-helmet';
import type { SqlEntityManager } from '@mikro-orm/sql';
import type { ResponseObserver } from '../core-services.ts';
import type { Logger } from '../logging/logger.ts';
import type { HttpContext } from './context.ts';
import type { RouteDefinition, RouteGuard } from './plugin-router.ts';
import { coreProblems, HttpProblem, toProblemBody } from './problem.ts';
import { acceptRequestId, acceptTraceparent } from './request-id.ts';
import { LazyRequestState } from './request-state.ts';
import { routeMiddleware } from './route-middleware.ts';
import { isServerFault, toProblem } from './to-problem.ts';
import { outageOf, type Outage, type PeerNames } from '../outage/dependency-unavailable.ts';
import type { OutageLog } from '../outage/outage-log.ts';
import proxyaddr from 'proxy-addr';

export interface HttpAppSettings {
  readonly allowedOrigins: readonly string[];
  readonly trustedProxies: readonly string[];
  readonly bodyLimitBytes: number;
  readonly requestTimeoutMs: number;
}

export interface HttpAppOptions {
  readonly logger: Logger;
  readonly settings: HttpAppSettings;
  readonly routes: readonly RouteDefinition[];
  /** Guards every route runs before its body is read (read when routes are mounted). */
  readonly guards: readonly RouteGuard[];
  /** Headers plugins add to CORS' exposed list (e.g. the ratelimit plugin's `RateLimit`). */
  readonly exposedHeaders: readonly string[];
  /** Told about every answered request (read when routes are mounted). */
  readonly responseObservers: readonly ResponseObserver[];
  readonly forkEm: () => SqlEntityManager;
  /** True once shutdown began: responses then ask clients to close keep-alive connections. */
  readonly isDraining: () => boolean;
  /** Where refusals for an unreachable dependency are counted and logged (once per outage). */
  readonly outages: OutageLog;
  /** Names of the peers the kernel knows (the database), by port, for network errors. */
  readonly peers: PeerNames;
}

const PROBLEM_JSON = 'application/problem+json; charset=utf-8';

export function createHttpApp(options: HttpAppOptions): Koa<LazyRequestState, HttpContext> {
  const { logger, settings } = options;
  const app = new Koa<LazyRequestState, HttpContext>();
  // X-Forwarded-For is believed only hop by hop from trusted proxies (proxy-addr walks the list
  // from the nearest hop), so a client cannot pick its own address by sending the header.
  app.proxy = false;
  const trust = settings.trustedProxies.length > 0 ? proxyaddr.compile([...settings.trustedProxies]) : undefined;
  // The route that answered each request, for observers: set by the route's first middleware.
  const answeredBy = new WeakMap<object, RouteDefinition>();
  const observers = options.responseObservers;

  app.use(async (ctx, next) => {
    const started = performance.now();
    const state = new LazyRequestState(
      acceptRequestId(ctx.get('x-request-id') || undefined),
      acceptTraceparent(ctx.get('traceparent') || undefined),
      logger,
      options.forkEm,
    );
    ctx.state = state;
    ctx.set('X-Request-Id', state.requestId);
    if (trust) ctx.request.ip = proxyaddr(ctx.req, trust);
    state.secure =
      (ctx.req.socket as { encrypted?: boolean }).encrypted === true ||
      (trust?.(ctx.req.socket.remoteAddress ?? '', 0) === true && ctx.get('x-forwarded-proto') === 'https');
    try {
      await next();
      if (ctx.body === undefined || ctx.body === null) {
        // The router answers unmatched requests with an empty 404/405/501 (and an Allow header).
        if (ctx.status === 404) throw coreProblems.not_found(`No route matches ${ctx.method} ${ctx.path}.`);
        if (ctx.status === 405) throw coreProblems.method_not_allowed(`${ctx.path} accepts ${ctx.response.get('Allow') || 'no other method'}.`);
        if (ctx.status === 501) throw coreProblems.not_implemented(`The method ${ctx.method} is not supported.`);
      }
    } catch (err) {
      // A dependency outage is not a fault of this request nor of the code: 503, logged once.
      const outage = err instanceof HttpProblem ? undefined : outageOf(err, options.peers);
      const problem = outage ? unavailable(outage) : toProblem(err);
      if (outage) options.outages.refused(outage, { requestId: state.requestId });
      else if (isServerFault(err, problem)) state.log.error({ err }, 'request failed');
      ctx.status = problem.status;
      for (const [name, value] of Object.entries(problem.headers)) ctx.set(name, value);
      ctx.type = PROBLEM_JSON;
      ctx.body = toProblemBody(problem, state.requestId);
    } finally {
      if (options.isDraining()) ctx.set('Connection', 'close');
      // Answered before the body fully arrived (refused, too large, not found, or a handler that
      // did not read it): close after the answer rather than let Node read the rest of a body
      // nobody wants (up to whatever Content-Length was declared) to keep the connection alive.
      // `complete` is Node's (and Deno's node:http) "the whole request was received".
      if ((ctx.req as { complete?: boolean }).complete === false) ctx.set('Connection', 'close');
      const durationMs = performance.now() - started;
      if (logger.level === 'info' || logger.level === 'debug' || logger.level === 'trace') {
        logger.info(
          {
            requestId: state.requestId,
            ...(state.traceparent !== undefined && { traceparent: state.traceparent }),
            method: ctx.method,
            path: ctx.path,
            status: ctx.status,
            durationMs: Math.round(durationMs * 100) / 100,
          },
          'request',
        );
      }
      if (observers.length > 0) {
        const route = answeredBy.get(ctx);
        const observation = { method: ctx.method, route: route?.path, plugin: route?.plugin, status: ctx.status, durationSeconds: durationMs / 1000 };
        for (const observe of observers) {
          try {
            observe(observation);
          } catch (err) {
            logger.error({ err }, 'response observer failed');
          }
        }
      }
    }
  });

  // Koa's own error printing is replaced by the handler above; this only catches stream errors.
  app.on('error', (err: unknown) => logger.error({ err }, 'response stream error'));
  app.silent = true;

  // HSTS only means something on a TLS connection, so it is added per request when the request
  // came over TLS (directly, or via a trusted proxy's X-Forwarded-Proto).
  // helmet's defaults, with the CSP and framing rules OWASP recommends for JSON APIs (nothing here
  // is a page to render or frame) instead of its website policy: stricter, and 400 bytes shorter
  // on every response.
  app.use(
    helmet({
      strictTransportSecurity: false,
      contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
      frameguard: { action: 'deny' },
    }),
  );
  app.use(async (ctx, next) => {
    if (ctx.state.secure) ctx.set('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
    return next();
  });

  if (settings.allowedOrigins.length > 0) {
    const allowed = new Set(settings.allowedOrigins);
    app.use(
      cors({
        origin: (ctx) => {
          const origin = ctx.get('Origin');
          return allowed.has(origin) ? origin : '';
        },
        credentials: true,
        exposeHeaders: [...new Set(['X-Request-Id', 'Retry-After', 'WWW-Authenticate', ...options.exposedHeaders])],
        maxAge: 600,
      }),
    );
  }

  const router = new Router<LazyRequestState, HttpContext>();
  for (const route of options.routes) {
    const chain = routeMiddleware(route, settings, options.guards);
    // Only when someone observes responses: otherwise this would be one more step per request.
    if (observers.length > 0) {
      chain.unshift((ctx, next) => {
        answeredBy.set(ctx, route);
        return next();
      });
    }
    router.register(route.path, [route.method], chain);
  }
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}

/** The answer while a dependency is away: which one is for the log, not for the client. */
function unavailable(outage: Outage): HttpProblem {
  return coreProblems.service_unavailable('A service this request needs is unavailable right now; try again shortly.', {
    headers: { 'Retry-After': String(outage.retryAfterSeconds) },
  });
}
