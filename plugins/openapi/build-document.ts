/**
 * The OpenAPI 3.1 document of the running service, generated from the routes the plugins
 * registered: paths, summaries, parameters and request bodies from their valibot schemas (via
 * @valibot/to-json-schema), success responses with their body schemas, and every problem code a
 * route may answer with, listed by status. Served by the openapi plugin at GET /openapi.json.
 *
 * What only a plugin knows (security schemes, rate limits) comes from its decorators; the builder
 * knows the core's vocabulary only.
 */
import { toJsonSchema, toJsonSchemaDefs, type ConversionConfig } from '@valibot/to-json-schema';
import type { BodySchema, DeclaredProblem, PluginSummary, RouteDefinition, RouteResponse, UploadBody } from '../../core/index.ts';
import type { JsonObject, OpenApiDecorator, ProblemOptions } from './contract.ts';

export interface OpenApiInfo {
  readonly title: string;
  readonly version: string;
  readonly description?: string;
  readonly license?: { readonly name: string; readonly identifier?: string | undefined; readonly url?: string | undefined };
}

export interface BuildOptions {
  readonly decorators?: readonly OpenApiDecorator[];
  /** Problem codes with their statuses (the route catalogue's `problems()`); others go to `default` only. */
  readonly problems?: ReadonlyMap<string, Pick<DeclaredProblem, 'status' | 'title'>>;
  /** Schemas to list under `components.schemas` and refer to by name. */
  readonly schemas?: Readonly<Record<string, BodySchema>>;
  /** The enabled plugins: each one with routes becomes a tag, described by its description. */
  readonly plugins?: readonly PluginSummary[];
}

const PROBLEM_MEDIA_TYPE = 'application/problem+json';
const PROBLEM_REF = { $ref: '#/components/schemas/Problem' } as const;

const problemSchema = (codes: readonly string[]): JsonObject => ({
  type: 'object',
  description: 'RFC 9457 problem details',
  required: ['type', 'title', 'status', 'code', 'requestId'],
  properties: {
    type: { type: 'string', description: 'urn:empulse:problem:<code>' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    code: { type: 'string', description: `Stable machine code, e.g. ${codes.join(', ')}` },
    requestId: { type: 'string', description: 'Also in the X-Request-Id header and every log line of the request' },
    errors: {
      type: 'array',
      description: 'validation_failed: one entry per offending field or parameter',
      items: { type: 'object', required: ['path', 'message'], properties: { path: { type: 'string' }, message: { type: 'string' } } },
    },
  },
});

/** What the pipeline itself may answer on a route, before its handler runs. */
function pipelineProblems(route: RouteDefinition): string[] {
  const codes: string[] = [];
  if (route.options.body || route.upload) codes.push('malformed_body', 'payload_too_large');
  // A stream body without media types takes any; JSON and multipart bodies take one kind only.
  if (route.options.body || (route.upload && (route.upload.kind === 'multipart' || route.upload.mediaTypes))) codes.push('unsupported_media_type');
  // Every query value and path parameter of every route is checked (control characters, then the
  // route's schemas), so any route may answer 422.
  codes.push('validation_failed', 'request_timeout');
  return codes;
}

/** Answers any route may give that say nothing about it: listed in `default`, not by status. */
const ANY_ROUTE = 'internal_error';

export function buildOpenApi(routes: readonly RouteDefinition[], info: OpenApiInfo, options: BuildOptions = {}): JsonObject {
  const known = options.problems ?? new Map<string, Pick<DeclaredProblem, 'status' | 'title'>>();
  const schemas = new SchemaConverter(options.schemas ?? {});
  const components = {
    schemas: { Problem: problemSchema([...known.keys()]), ...schemas.components() } as JsonObject,
    securitySchemes: {} as JsonObject,
  };
  const paths: Record<string, Record<string, JsonObject>> = {};
  const operationIds = new Set<string>();
  for (const route of routes) {
    // `:id` and the router's wildcard `*rest` (which spans slashes) are both `{name}` here.
    const path = route.path.replace(/[:*]([A-Za-z0-9_]+)/g, '{$1}');
    const responses: Record<string, JsonObject> = {};
    for (const [status, declared] of Object.entries(route.options.responses ?? { 200: 'OK' })) {
      responses[status] = successResponse(typeof declared === 'string' ? { description: declared } : declared, schemas);
    }
    const parameters = [...pathParameters(route, schemas), ...queryParameters(route, schemas)];
    const description = route.options.description;
    const operation: JsonObject = {
      operationId: uniqueId(operationIds, `${route.method.toLowerCase()}${camel(path)}`),
      tags: [route.plugin],
      summary: route.options.summary ?? `${route.method} ${route.path}`,
      ...(description && { description }),
      ...(parameters.length > 0 && { parameters }),
      ...requestBody(route, schemas),
      responses,
    };
    const problems = new ProblemList([...(route.options.problems ?? []), ...pipelineProblems(route)]);
    // Any route that reaches a dependency (the database, a cache, an object store) answers this
    // while the dependency is unreachable or the database pool has no free connection in time.
    problems.add('service_unavailable', { headers: { 'Retry-After': 'Seconds after which asking again makes sense (a dependency is unavailable)' } });
    for (const decorate of options.decorators ?? []) {
      decorate({ route, operation, components, addProblem: (code, opts) => problems.add(code, opts) });
    }
    problems.write(operation.responses as Record<string, JsonObject>, known);
    (paths[path] ??= {})[route.method.toLowerCase()] = inUsualOrder(operation);
  }
  const used = new Set(routes.map((r) => r.plugin));
  const tags = (options.plugins ?? [])
    .filter((p) => used.has(p.id))
    .map((p) => ({ name: p.id, description: p.description ?? `The ${p.id} plugin` }));
  return {
    openapi: '3.1.0',
    info: {
      title: info.title,
      version: info.version,
      ...(info.description && { description: info.description }),
      ...(info.license && { license: definedOnly(info.license) }),
    },
    // Relative to where this document is served: the API's own origin, whatever host serves it.
    servers: [{ url: '/' }],
    // The core knows no authentication: an operation needs none unless a plugin's decorator says so.
    security: [],
    ...(tags.length > 0 && { tags }),
    paths,
    components,
  };
}

/** The problem codes of one operation, written as responses once every decorator has run. */
class ProblemList {
  readonly #codes: string[] = [];
  readonly #headers = new Map<string, Readonly<Record<string, string>>>();

  constructor(codes: readonly string[]) {
    for (const code of codes) this.add(code);
  }

  add(code: string, options?: ProblemOptions): void {
    if (!this.#codes.includes(code)) this.#codes.push(code);
    if (options?.headers) this.#headers.set(code, { ...this.#headers.get(code), ...options.headers });
  }

  /**
   * One response per status with a problem code, after the success ones (a status a route also
   * succeeds with, such as readiness' 503, gets the problem as a second media type), then
   * `default` naming every code.
   */
  write(responses: Record<string, JsonObject>, known: ReadonlyMap<string, Pick<DeclaredProblem, 'status' | 'title'>>): void {
    const byStatus = new Map<number, string[]>();
    for (const code of this.#codes) {
      const status = known.get(code)?.status;
      if (status !== undefined) byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
    }
    for (const [status, codes] of [...byStatus].sort(([a], [b]) => a - b)) {
      const listed = codes.map((code) => `${code} (${known.get(code)!.title})`).join(', ');
      const headers = Object.assign({}, ...codes.map((code) => this.#headers.get(code) ?? {})) as Record<string, string>;
      const existing = responses[String(status)];
      const content = { [PROBLEM_MEDIA_TYPE]: { schema: PROBLEM_REF } };
      if (existing) {
        existing.description = `${String(existing.description)}\n\nOr a problem: ${listed}.`;
        existing.content = { ...(existing.content as JsonObject | undefined), ...content };
        if (Object.keys(headers).length > 0) existing.headers = { ...(existing.headers as JsonObject | undefined), ...headerObjects(headers) };
      } else {
        responses[String(status)] = {
          description: `A problem: ${listed}.`,
          ...(Object.keys(headers).length > 0 && { headers: headerObjects(headers) }),
          content,
        };
      }
    }
    const all = [...this.#codes, ANY_ROUTE].filter((code, i, list) => list.indexOf(code) === i);
    responses.default = {
      description: `A problem (RFC 9457). Codes: ${all.join(', ')}.`,
      content: { [PROBLEM_MEDIA_TYPE]: { schema: PROBLEM_REF } },
    };
  }
}

function successResponse(declared: RouteResponse, schemas: SchemaConverter): JsonObject {
  return {
    description: declared.description,
    ...(declared.headers && Object.keys(declared.headers).length > 0 && { headers: headerObjects(declared.headers) }),
    ...(declared.body && { content: { 'application/json': { schema: schemas.convert(declared.body) } } }),
  };
}

function headerObjects(headers: Readonly<Record<string, string>>): JsonObject {
  return Object.fromEntries(Object.entries(headers).map(([name, description]) => [name, { description, schema: { type: 'string' } }]));
}

function pathParameters(route: RouteDefinition, schemas: SchemaConverter): JsonObject[] {
  const declared = route.options.params ? objectProperties(schemas.convert(route.options.params)) : undefined;
  return [...route.path.matchAll(/[:*]([A-Za-z0-9_]+)/g)].map(([, name]) => {
    const schema = declared?.properties[name!] ?? { type: 'string' };
    return { name, in: 'path', required: true, ...describedBy(schema), schema };
  });
}

function queryParameters(route: RouteDefinition, schemas: SchemaConverter): JsonObject[] {
  const declared = route.options.query ? objectProperties(schemas.convert(route.options.query)) : undefined;
  if (!declared) return [];
  return Object.entries(declared.properties).map(([name, schema]) => ({
    name,
    in: 'query',
    required: declared.required.includes(name),
    ...describedBy(schema),
    schema,
  }));
}

/** A parameter carries its schema's description (where documentation tools show it). */
function describedBy(schema: JsonObject): { description?: string } {
  return typeof schema.description === 'string' ? { description: schema.description } : {};
}

function objectProperties(schema: JsonObject): { properties: Record<string, JsonObject>; required: readonly string[] } | undefined {
  if (typeof schema.properties !== 'object' || schema.properties === null) return undefined;
  return { properties: schema.properties as Record<string, JsonObject>, required: Array.isArray(schema.required) ? (schema.required as string[]) : [] };
}

function requestBody(route: RouteDefinition, schemas: SchemaConverter): { requestBody?: JsonObject } {
  const body = route.options.body;
  if (body) {
    return { requestBody: { required: !isOptional(body), content: { 'application/json': { schema: schemas.convert(body) } } } };
  }
  return route.upload ? { requestBody: uploadBody(route.upload) } : {};
}

function uploadBody(upload: UploadBody): JsonObject {
  if (upload.kind === 'stream') {
    const types = upload.mediaTypes ?? ['application/octet-stream'];
    return {
      required: true,
      description: `The raw bytes, streamed; at most ${upload.maxBytes} bytes (413 payload_too_large past it).${upload.mediaTypes ? '' : ' Any Content-Type.'}`,
      content: Object.fromEntries(types.map((type) => [type, { schema: { type: 'string', contentMediaType: type } }])),
    };
  }
  const fileType = upload.fileMediaTypes?.length === 1 ? upload.fileMediaTypes[0]! : 'application/octet-stream';
  return {
    required: true,
    description:
      `multipart/form-data, file parts streamed: at most ${upload.maxFiles} file(s) of ${upload.maxFileBytes} bytes, ` +
      `${upload.maxFields} text field(s) of ${upload.maxFieldBytes} bytes, ${upload.maxTotalBytes} bytes in all` +
      (upload.fileMediaTypes ? `; file types ${upload.fileMediaTypes.join(', ')}.` : '.'),
    content: {
      'multipart/form-data': {
        schema: {
          type: 'object',
          properties: Object.fromEntries(upload.requiredFiles.map((name) => [name, { type: 'string', contentMediaType: fileType }])),
          required: [...upload.requiredFiles],
        },
      },
    },
  };
}

/**
 * valibot → JSON Schema (draft 2020-12, which OpenAPI 3.1 uses), with the named schemas as
 * references into `components.schemas`. Request schemas are described as the client sends them
 * (`typeMode: 'input'`: a pipeline stops before its first conversion, e.g. `toNumber`); what
 * cannot be expressed in JSON Schema is left out rather than failing the document.
 */
class SchemaConverter {
  readonly #named: Readonly<Record<string, BodySchema>>;
  readonly #config: ConversionConfig;

  constructor(named: Readonly<Record<string, BodySchema>>) {
    this.#named = named;
    this.#config = {
      target: 'draft-2020-12',
      errorMode: 'ignore',
      typeMode: 'input',
      overrideRef: ({ referenceId }) => (referenceId in named ? `#/components/schemas/${referenceId}` : undefined),
    };
  }

  convert(schema: BodySchema): JsonObject {
    // Explicit definitions, so that no global ones (`addGlobalDefs`) leak into this document.
    const json = toJsonSchema(schema, { ...this.#config, definitions: this.#named }) as JsonObject;
    return withoutDialect(json, this.#named);
  }

  components(): JsonObject {
    const defs = toJsonSchemaDefs(this.#named, this.#config) as Record<string, JsonObject>;
    return Object.fromEntries(Object.entries(defs).map(([name, schema]) => [name, withoutDialect(schema, this.#named)]));
  }
}

/**
 * Drops `$schema` (the document's dialect is OpenAPI 3.1's; lint refuses it inside) and the named
 * definitions the converter copies into every schema (they live in `components.schemas`).
 */
function withoutDialect(json: JsonObject, named: Readonly<Record<string, unknown>>): JsonObject {
  const { $schema: _dialect, $defs, ...rest } = json;
  const others = Object.entries(($defs ?? {}) as JsonObject).filter(([name]) => !(name in named));
  return others.length > 0 ? { ...rest, $defs: Object.fromEntries(others) } : rest;
}

const OPERATION_KEYS = ['operationId', 'tags', 'summary', 'description', 'security', 'parameters', 'requestBody', 'responses'];

/** The operation's fields in the order readers expect, whatever order decorators added them in. */
function inUsualOrder(operation: JsonObject): JsonObject {
  const ordered: JsonObject = {};
  for (const key of OPERATION_KEYS) if (key in operation) ordered[key] = operation[key];
  return Object.assign(ordered, operation);
}

function camel(path: string): string {
  return path.replace(/[^A-Za-z0-9]+(.)?/g, (_: string, c: string | undefined) => (c ? c.toUpperCase() : ''));
}

function uniqueId(taken: Set<string>, id: string): string {
  let candidate = id;
  for (let n = 2; taken.has(candidate); n++) candidate = `${id}${n}`;
  taken.add(candidate);
  return candidate;
}

function definedOnly(o: object): JsonObject {
  return Object.fromEntries(Object.entries(o).filter(([, value]) => value !== undefined));
}

function isOptional(schema: { readonly type: string }): boolean {
  return schema.type === 'optional' || schema.type === 'nullish';
}
