/**
 * RFC 9457 problem details. Every error response of the service is one of these, with a stable
 * snake_case `code` that clients switch on and the request id that ties it to the logs.
 */

export interface FieldError {
  /** Dotted path of the offending field, e.g. `password` or `address.zip`. */
  readonly path: string;
  readonly message: string;
}

export interface ProblemInit {
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly detail?: string;
  readonly errors?: readonly FieldError[];
  /** Extra response headers, e.g. `Retry-After` or `WWW-Authenticate`. */
  readonly headers?: Readonly<Record<string, string>>;
}

/** Throw one from a handler to answer with a problem. Its fields are public by design. */
export class HttpProblem extends Error {
  override readonly name = 'HttpProblem';
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly detail: string | undefined;
  readonly errors: readonly FieldError[] | undefined;
  readonly headers: Readonly<Record<string, string>>;

  constructor(init: ProblemInit) {
    super(init.detail ?? init.title);
    this.status = init.status;
    this.code = init.code;
    this.title = init.title;
    this.detail = init.detail;
    this.errors = init.errors;
    this.headers = init.headers ?? {};
  }
}

export interface ProblemBody {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail?: string;
  readonly code: string;
  readonly requestId: string;
  readonly errors?: readonly FieldError[];
}

/** Problem types are URNs: stable identifiers that need no web host to exist. */
export const problemType = (code: string): string => `urn:empulse:problem:${code}`;

export function toProblemBody(problem: HttpProblem, requestId: string): ProblemBody {
  return {
    type: problemType(problem.code),
    title: problem.title,
    status: problem.status,
    ...(problem.detail !== undefined && { detail: problem.detail }),
    code: problem.code,
    requestId,
    ...(problem.errors !== undefined && { errors: problem.errors }),
  };
}

/** A catalogue entry: the fixed parts of a problem a plugin can raise. */
export interface ProblemDefinition {
  readonly status: number;
  readonly title: string;
}

/**
 * A catalogue of problem codes as a plugin declares it in `definePlugin({ problems: [...] })`:
 * what `defineProblems` returns. The kernel reads only its `catalogue` (each code's status).
 */
export interface ProblemCatalogue {
  readonly catalogue: Readonly<Record<string, ProblemDefinition>>;
}

/** A problem code as the kernel knows it: its status and title, and whose catalogue declares it. */
export interface DeclaredProblem extends ProblemDefinition {
  readonly code: string;
  /** `core` for the pipeline's own codes, else the id of the declaring plugin. */
  readonly owner: string;
}

export type ProblemFactories<C extends Record<string, ProblemDefinition>> = {
  readonly [K in keyof C]: (detail?: string, extra?: Pick<ProblemInit, 'errors' | 'headers'>) => HttpProblem;
};

/**
 * Declares a catalogue of error codes (Better Auth style): `const errors = defineProblems({
 * invalid_token: { status: 400, title: 'Invalid token' } })`, then `throw errors.invalid_token()`.
 * List it in the plugin's `problems` too (`definePlugin({ problems: [errors], … })`), so the
 * kernel knows each code's status (the OpenAPI document lists a route's codes by status).
 */
export function defineProblems<const C extends Record<string, ProblemDefinition>>(catalogue: C): ProblemFactories<C> & { readonly catalogue: C } {
  const factories: Record<string, unknown> = { catalogue };
  for (const [code, def] of Object.entries(catalogue)) {
    if (!/^[a-z][a-z0-9_]*$/.test(code)) throw new TypeError(`problem code "${code}" must be snake_case`);
    if (!Number.isInteger(def.status) || def.status < 400 || def.status > 599) {
      throw new TypeError(`problem code "${code}" must have a 4xx or 5xx status (got ${def.status})`);
    }
    factories[code] = (detail?: string, extra?: Pick<ProblemInit, 'errors' | 'headers'>) =>
      new HttpProblem({ status: def.status, title: def.title, code, ...(detail !== undefined && { detail }), ...extra });
  }
  return factories as ProblemFactories<C> & { readonly catalogue: C };
}

/** The codes every plugin's routes may answer with, raised by the core pipeline. */
export const coreProblems = defineProblems({
  malformed_body: { status: 400, title: 'Malformed request body' },
  unauthenticated: { status: 401, title: 'Authentication required' },
  forbidden: { status: 403, title: 'Forbidden' },
  not_found: { status: 404, title: 'Not found' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  payload_too_large: { status: 413, title: 'Payload too large' },
  unsupported_media_type: { status: 415, title: 'Unsupported media type' },
  validation_failed: { status: 422, title: 'Validation failed' },
  rate_limited: { status: 429, title: 'Too many requests' },
  internal_error: { status: 500, title: 'Internal server error' },
  not_implemented: { status: 501, title: 'Not implemented' },
  service_unavailable: { status: 503, title: 'Service unavailable' },
  request_timeout: { status: 503, title: 'Request timed out' },
});
