/**
 * The route's path parameters and query string, checked before its body is read (after its
 * guards): every value for control characters, on every route, so no plugin can forget it (a
 * handler reading `http.query` or `http.params` directly gets clean text too); then the route's
 * `params` and `query` schemas. Failures answer 422 `validation_failed` with one `errors` entry
 * per parameter, its path being the parameter's name (`limit`, `status`, `status.1` for the
 * second value of a repeated key). The results land in `http.state.params` / `http.state.query`.
 */
import type { Middleware } from 'koa';
import * as v from 'valibot';
import type { HttpContext } from './context.ts';
import { controlCharacterErrors } from './control-characters.ts';
import { issueMessage } from './issue-message.ts';
import type { RouteDefinition } from './plugin-router.ts';
import { coreProblems, type FieldError } from './problem.ts';
import type { LazyRequestState } from './request-state.ts';

type Mw = Middleware<LazyRequestState & HttpContext['state'], HttpContext>;

const NO_PARAMS: Readonly<Record<string, string>> = Object.freeze({});
const NO_QUERY: Readonly<Record<string, string>> = Object.freeze({});

export function validateRequest(route: RouteDefinition): Mw {
  const paramsSchema = route.options.params;
  const querySchema = route.options.query;
  return async (ctx, next) => {
    const paramErrors: FieldError[] = [];
    const queryErrors: FieldError[] = [];
    const params = check(ctx.params ?? NO_PARAMS, paramsSchema, paramErrors);
    // Most requests (probes, most handlers) have no query string: skip parsing one.
    const query = querySchema || ctx.querystring !== '' ? check(ctx.query, querySchema, queryErrors) : NO_QUERY;
    if (paramErrors.length > 0 || queryErrors.length > 0) {
      const detail =
        queryErrors.length === 0 ? 'The path parameters are invalid.'
        : paramErrors.length === 0 ? 'The query string is invalid.'
        : 'The path parameters and the query string are invalid.';
      throw coreProblems.validation_failed(detail, { errors: [...paramErrors, ...queryErrors] });
    }
    ctx.state.params = params;
    ctx.state.query = query;
    return next();
  };
}

/**
 * Control characters first, on the raw strings (a schema may trim or convert them away), then
 * the schema. Returns the value the handler gets; failures go to `errors`.
 */
function check(raw: object, schema: v.GenericSchema<unknown, unknown> | undefined, errors: FieldError[]): unknown {
  const unsafe = controlCharacterErrors(raw, schema);
  if (unsafe.length > 0) {
    for (const e of unsafe) errors.push(e.path === '' ? { path: '', message: 'parameter names must not contain control characters' } : e);
    return undefined;
  }
  if (!schema) return raw;
  const result = v.safeParse(schema, raw);
  if (result.success) return result.output;
  for (const issue of result.issues) errors.push({ path: v.getDotPath(issue) ?? '', message: issueMessage(issue) });
  return undefined;
}
