/**
 * openapi plugin: serves the OpenAPI 3.1 document of every enabled plugin's routes at
 * GET /openapi.json, generated from their declarations (so it cannot drift from the code).
 * Other plugins add what only they know through the `openapi` service: decorators and named schemas.
 */
import * as v from 'valibot';
import { coreServices, definePlugin, type BodySchema } from '../../core/index.ts';
import { buildOpenApi } from './build-document.ts';
import { openApiServiceRef, type OpenApiDecorator, type OpenApiService } from './contract.ts';

const openApiConfigSchema = v.strictObject({
  /** The document's `info.title`. */
  title: v.optional(v.pipe(v.string(), v.minLength(1)), 'Empulse API'),
  /**
   * The API's license (`info.license`): a name, and an SPDX `identifier` or a `url` (not both).
   * The deployment's to decide, so left out unless set.
   */
  license: v.optional(
    v.strictObject({
      name: v.pipe(v.string(), v.minLength(1)),
      identifier: v.optional(v.pipe(v.string(), v.minLength(1))),
      url: v.optional(v.pipe(v.string(), v.url())),
    }),
  ),
});

/** The document's shape, as far as this route promises it. */
const OpenApiDocument = v.pipe(
  v.looseObject({
    openapi: v.literal('3.1.0'),
    info: v.looseObject({ title: v.string(), version: v.string(), description: v.optional(v.string()) }),
    servers: v.array(v.looseObject({ url: v.string() })),
    paths: v.record(v.string(), v.record(v.string(), v.unknown())),
    components: v.record(v.string(), v.unknown()),
  }),
  v.description('An OpenAPI 3.1 document (https://spec.openapis.org/oas/v3.1.0)'),
);

export const openApiPlugin = definePlugin({
  id: 'openapi',
  version: '0.1.0',
  kernel: '^0.1.0',
  description: 'The API description at /openapi.json',
  requires: { routes: coreServices.routes },
  provides: { openapi: openApiServiceRef },
  prefixes: ['/openapi.json'],
  config: openApiConfigSchema,
  validate: (config) =>
    config.license?.identifier !== undefined && config.license.url !== undefined
      ? [{ path: 'license', message: 'give an SPDX identifier or a url, not both (OpenAPI 3.1)' }]
      : [],
  init(ctx) {
    const decorators = ctx.extensionPoint<OpenApiDecorator>('decorators');
    const named = ctx.extensionPoint<readonly [string, BodySchema]>('schemas');
    let document: Record<string, unknown> | undefined;
    const routes = ctx.services.routes;
    // Built on first request: by then every route is mounted and every decorator registered.
    const build = () =>
      (document ??= buildOpenApi(
        routes.list(),
        {
          title: ctx.config.title,
          version: routes.kernelVersion,
          ...(ctx.config.license && { license: ctx.config.license }),
          description: `Plugins: ${routes.plugins().map((p) => `${p.id}@${p.version}`).join(', ')}. Errors are RFC 9457 problem details with a stable code.`,
        },
        { decorators: decorators.items, problems: routes.problems(), schemas: Object.fromEntries(named.items), plugins: routes.plugins() },
      ));
    const openapi: OpenApiService = {
      decorate: (decorator) => decorators.add(decorator),
      nameSchemas: (schemas) => {
        for (const [name, schema] of Object.entries(schemas)) {
          if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new TypeError(`openapi: schema name "${name}" must be letters, digits, ".", "-" or "_"`);
          const taken = named.items.find(([n]) => n === name);
          if (taken && taken[1] !== schema) throw new TypeError(`openapi: schema name "${name}" is already given to another schema`);
          if (name === 'Problem') throw new TypeError('openapi: schema name "Problem" is the problem details schema');
          if (!taken) named.add([name, schema]);
        }
      },
    };
    return { services: { openapi }, state: { build } };
  },
  routes(router, ctx) {
    router.get('/openapi.json', { summary: 'This document', responses: { 200: { description: 'The OpenAPI 3.1 document', body: OpenApiDocument } } }, (http) => {
      http.set('Cache-Control', 'public, max-age=60');
      http.body = ctx.state.build();
    });
  },
});
