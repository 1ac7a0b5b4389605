/**
 * The middleware the kernel puts in front of each route handler: its time budget, then its body
 * handling (JSON parsing with a size limit, media-type check, schema validation; or, on upload
 * routes, the body streamed under its body kind's limits, see body/upload-middleware.ts).
 */
import type { Middleware } from 'koa';
import { koaBody } from 'koa-body';
import * as v from 'valibot';
import type { HttpContext } from './context.ts';
import type { RouteDefinition, RouteGuard } from './plugin-router.ts';
import { controlCharacterErrors } from './control-characters.ts';
import { issueMessage } from './issue-message.ts';
import { coreProblems } from './problem.ts';
import type { LazyRequestState } from './request-state.ts';
import { validateRequest } from './validate-request.ts';
import { DEFAULT_UPLOAD_TIMEOUT_MS } from './body/kinds.ts';
import { uploadBody } from './body/upload-middleware.ts';

type Mw = Middleware<LazyRequestState & HttpContext['state'], HttpContext>;

export interface RouteDefaults {
  readonly bodyLimitBytes: number;
  readonly requestTimeoutMs: number;
}

export function routeMiddleware(route: RouteDefinition, defaults: RouteDefaults, guards: readonly RouteGuard[]): Mw[] {
  const upload = route.upload;
  // Upload routes get an hour by default, not the kernel's whole-request budget; their body kind
  // adds an idle timeout for the client's silence.
  const timeoutMs = route.options.timeoutMs ?? (upload ? DEFAULT_UPLOAD_TIMEOUT_MS : defaults.requestTimeoutMs);
  const chain: Mw[] = [timeBudget(timeoutMs)];
  if (guards.length > 0) {
    chain.push(async (ctx, next) => {
      for (const guard of guards) await guard(ctx as HttpContext, route);
      return next();
    });
  }
  chain.push(validateRequest(route)); // path parameters and query string, before the body is read
  if (upload) chain.push(uploadBody(upload));
  const parsesJson = !upload && route.method !== 'GET' && route.method !== 'DELETE';
  if (parsesJson) chain.push(jsonBody(route.options.bodyLimitBytes ?? defaults.bodyLimitBytes));
  if (route.options.body || parsesJson) chain.push(validateBody(route.options.body));
  chain.push(async (ctx, next) => {
    await route.handler(ctx as HttpContext);
    return next();
  });
  return chain;
}

/**
 * Answers 503 `request_timeout` when the rest of the chain outlives its budget, and aborts it.
 * The answer closes the connection: a client still trickling its body would otherwise keep the
 * socket (and the server's memory for it) for as long as it likes.
 */
function timeBudget(ms: number): Mw {
  return async (ctx, next) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const problem = coreProblems.request_timeout(`The request took longer than ${ms} ms.`, { headers: { Connection: 'close' } });
        ctx.state.abort(problem);
        reject(problem);
      }, ms);
    });
    try {
      await Promise.race([next(), expired]);
    } finally {
      clearTimeout(timer);
    }
  };
}

const parsers = new Map<number, Mw>();

/** JSON only: any other media type with a body is 415; a body over the limit is 413. */
function jsonBody(limit: number): Mw {
  let parser = parsers.get(limit);
  if (!parser) {
    parser = koaBody({
      json: true,
      jsonStrict: true,
      jsonLimit: limit,
      multipart: false,
      urlencoded: false,
      text: false,
      patchNode: false,
    }) as unknown as Mw;
    parsers.set(limit, parser);
  }
  const parse = parser;
  return async (ctx, next) => {
    if (!hasBody(ctx)) return next();
    if (!ctx.is('application/json', '+json')) {
      throw coreProblems.unsupported_media_type('Send the body as application/json.');
    }
    const declared = Number(ctx.get('content-length'));
    if (declared > limit) throw coreProblems.payload_too_large(`The body may be at most ${limit} bytes.`);
    await parse(ctx, async () => {});
    ctx.state.body = (ctx.request as { body?: unknown }).body;
    return next();
  };
}

function hasBody(ctx: HttpContext): boolean {
  const length = ctx.get('content-length');
  return ctx.get('transfer-encoding') !== '' || (length !== '' && length !== '0');
}

/** The route's schema (when it has one), then the text check every body gets. */
function validateBody(schema: v.GenericSchema<unknown, unknown> | undefined): Mw {
  return async (ctx, next) => {
    let body = ctx.state.body;
    if (schema) {
      const result = v.safeParse(schema, body);
      if (!result.success) {
        throw coreProblems.validation_failed('The request body is invalid.', {
          errors: result.issues.map((issue) => ({ path: v.getDotPath(issue) ?? '', message: issueMessage(issue) })),
        });
      }
      body = result.output;
    }
    const errors = controlCharacterErrors(body, schema);
    if (errors.length > 0) throw coreProblems.validation_failed('Text fields must not contain control characters.', { errors });
    ctx.state.body = body;
    return next();
  };
}

