/**
 * openapi plugin: serves the OpenAPI 3.1 document of every enabled plugin's routes at
 * GET /openapi.json, generated from their declarations (so it cannot drift from the code).
 * Other plugins add what only they know through the `openapi` service's decorators.
 */
import { coreServices, definePlugin } from '../../core/index.ts';
import { buildOpenApi, type Decorator } from './build-document.ts';
import { openApiServiceRef, type OpenApiService } from './contract.ts';

export const openApiPlugin = definePlugin({
  id: 'openapi',
  version: '0.1.0',
  kernel: '^0.1.0',
  description: 'The API description at /openapi.json',
  requires: { routes: coreServices.routes },
  provides: { openapi: openApiServiceRef },
  prefixes: ['/openapi.json'],
  init(ctx) {
    const decorators = ctx.extensionPoint<Decorator>('decorators');
    let document: Record<string, unknown> | undefined;
    const routes = ctx.services.routes;
    // Built on first request: by then every route is mounted and every decorator registered.
    const build = () =>
      (document ??= buildOpenApi(
        routes.list(),
        {
          title: 'Empulse API',
          version: routes.kernelVersion,
          description: `Plugins: ${routes.plugins().map((p) => `${p.id}@${p.version}`).join(', ')}. Errors are RFC 9457 problem details with a stable code.`,
        },
        decorators.items,
      ));
    const openapi: OpenApiService = { decorate: (decorator) => decorators.add(decorator) };
    return { services: { openapi }, state: { build } };
  },
  routes(router, ctx) {
    router.get('/openapi.json', { summary: 'This document' }, (http) => {
      http.set('Cache-Control', 'public, max-age=60');
      http.body = ctx.state.build();
    });
  },
});
