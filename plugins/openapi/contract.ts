/**
 * The openapi plugin's contract: other plugins add what only they know to the document (the
 * ratelimit plugin its 429 answers, auth its security schemes) without the openapi plugin or the
 * core knowing their vocabulary. Register decorators in `init`; they run when the document is
 * first built.
 */
import { createServiceRef, type RouteDefinition } from '../../core/index.ts';

/** A JSON object of the document (OpenAPI 3.1), as a decorator may extend it. */
export type JsonObject = { [key: string]: unknown };

export interface OperationDecoration {
  readonly route: RouteDefinition;
  /** The operation object of this route; add to it (description, responses, security, …). */
  readonly operation: JsonObject;
  /** The document's `components` (add schemas or security schemes here). */
  readonly components: JsonObject & { schemas: JsonObject; securitySchemes: JsonObject };
}

export interface OpenApiService {
  /** Adds a decorator called once per route when the document is built. Call from `init`. */
  decorate(decorator: (decoration: OperationDecoration) => void): void;
}

export const openApiServiceRef = createServiceRef<OpenApiService>('openapi');
