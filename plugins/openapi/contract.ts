/**
 * The openapi plugin's contract: other plugins add what only they know to the document (the
 * ratelimit plugin its 429 answers, auth its security schemes and named schemas) without the
 * openapi plugin or the core knowing their vocabulary. Register decorators and schemas in `init`;
 * they are used when the document is first built.
 */
import { createServiceRef, type BodySchema, type RouteDefinition } from '../../core/index.ts';

/** A JSON object of the document (OpenAPI 3.1), as a decorator may extend it. */
export type JsonObject = { [key: string]: unknown };

/** How a problem a decorator adds is answered, besides its body. */
export interface ProblemOptions {
  /** Headers the answer carries, by name, with what each means (e.g. `Retry-After`). */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface OperationDecoration {
  readonly route: RouteDefinition;
  /**
   * The operation object of this route; add to it (description, security, parameters, headers of
   * its success responses, …). Problem responses are not in it yet: add codes with `addProblem`.
   */
  readonly operation: JsonObject;
  /** The document's `components` (add schemas or security schemes here). */
  readonly components: JsonObject & { schemas: JsonObject; securitySchemes: JsonObject };
  /**
   * Adds a problem code the route may answer with (e.g. `rate_limited`). Once every decorator has
   * run, the document lists it with the route's own `problems`: under its status (as the core's and
   * the plugins' catalogues declare it) and in the `default` response.
   */
  addProblem(code: string, options?: ProblemOptions): void;
}

export type OpenApiDecorator = (decoration: OperationDecoration) => void;

export interface OpenApiService {
  /** Adds a decorator called once per route when the document is built. Call from `init`. */
  decorate(decorator: OpenApiDecorator): void;
  /**
   * Names schemas (`{ User, TokenPair }`): wherever a route's body, parameters or responses use one
   * of these very schema objects, at any depth, the document refers to
   * `#/components/schemas/<name>` instead of repeating it. Call from `init`; a name already given
   * to another schema throws (so the boot fails naming your plugin).
   */
  nameSchemas(schemas: Readonly<Record<string, BodySchema>>): void;
}

export const openApiServiceRef = createServiceRef<OpenApiService>('openapi');
