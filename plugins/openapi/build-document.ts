/**
 * The OpenAPI 3.1 document of the running service, generated from the routes the plugins
 * registered (paths, summaries, request body schemas via @valibot/to-json-schema, success
 * statuses and problem codes). Served by the openapi plugin at GET /openapi.json.
 */
import { toJsonSchema } from '@valibot/to-json-schema';
import { coreProblems, type RouteDefinition } from '../../core/index.ts';
import type { OperationDecoration } from './contract.ts';

export interface OpenApiInfo {
  readonly title: string;
  readonly version: string;
  readonly description?: string;
}

export type Decorator = (decoration: OperationDecoration) => void;

type Json = Record<string, unknown>;

const PROBLEM_SCHEMA: Json = {
  type: 'object',
  required: ['type', 'title', 'status', 'code', 'requestId'],
  properties: {
    type: { type: 'string', description: 'urn:empulse:problem:<code>' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    code: { type: 'string', description: `Stable machine code, e.g. ${Object.keys(coreProblems.catalogue).join(', ')}` },
    requestId: { type: 'string', description: 'Also in the X-Request-Id header and every log line of the request' },
    errors: {
      type: 'array',
      items: { type: 'object', required: ['path', 'message'], properties: { path: { type: 'string' }, message: { type: 'string' } } },
    },
  },
};

const PIPELINE_PROBLEMS = ['malformed_body', 'payload_too_large', 'unsupported_media_type', 'validation_failed', 'request_timeout'];

export function buildOpenApi(routes: readonly RouteDefinition[], info: OpenApiInfo, decorators: readonly Decorator[] = []): Json {
  const components = { schemas: { Problem: PROBLEM_SCHEMA } as Json, securitySchemes: {} as Json };
  const paths: Record<string, Record<string, Json>> = {};
  for (const route of routes) {
    const path = route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    const params = [...route.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }));
    const responses: Record<string, Json> = {};
    for (const [status, description] of Object.entries(route.options.responses ?? { 200: 'OK' })) {
      responses[status] = { description };
    }
    const codes = [...(route.options.problems ?? []), ...(route.options.body ? PIPELINE_PROBLEMS : ['request_timeout'])];
    const description = route.options.description;
    responses.default = {
      description: `A problem (RFC 9457). Codes: ${[...new Set(codes)].join(', ')}.`,
      content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
    };
    const operation: Json = {
      operationId: `${route.method.toLowerCase()}${path.replace(/[^A-Za-z0-9]+(.)?/g, (_: string, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
      tags: [route.plugin],
      ...(route.options.summary && { summary: route.options.summary }),
      ...(description && { description }),
      ...(params.length > 0 && { parameters: params }),
      ...(route.options.body && {
        requestBody: {
          required: !isOptional(route.options.body),
          content: { 'application/json': { schema: toJsonSchema(route.options.body, { target: 'draft-2020-12', errorMode: 'ignore' }) } },
        },
      }),
      responses,
    };
    for (const decorate of decorators) decorate({ route, operation, components });
    (paths[path] ??= {})[route.method.toLowerCase()] = operation;
  }
  return {
    openapi: '3.1.0',
    info: { title: info.title, version: info.version, ...(info.description && { description: info.description }) },
    paths,
    components,
  };
}

function isOptional(schema: { readonly type: string }): boolean {
  return schema.type === 'optional' || schema.type === 'nullish';
}
