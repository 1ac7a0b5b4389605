/**
 * openapi plugin: serves the OpenAPI 3.1 document of every enabled plugin's routes at
 * GET /openapi.json, generated from their declarations (so it cannot drift from the code).
 */
import { coreServices, definePlugin } from '../../core/index.ts';

export const openApiPlugin = definePlugin({
  id: 'openapi',
  version: '0.1.0',
  kernel: '^0.1.0',
  description: 'The API description at /openapi.json',
  requires: { routes: coreServices.routes },
  prefixes: ['/openapi.json'],
  routes(router, ctx) {
    router.get('/openapi.json', { summary: 'This document' }, (http) => {
      http.set('Cache-Control', 'public, max-age=60');
      http.body = ctx.services.routes.openApi();
    });
  },
});
