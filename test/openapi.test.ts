import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as v from 'valibot';
import { definePlugin } from '../core/index.ts';
import { createTestKernel, type TestKernel } from '../host/testing.ts';
import { healthPlugin } from '../plugins/health/index.ts';
import { openApiPlugin } from '../plugins/openapi/index.ts';
import { rateLimit } from '../plugins/ratelimit/contract.ts';
import { ratelimitPlugin } from '../plugins/ratelimit/index.ts';

const items = definePlugin({
  id: 'items',
  version: '1.0.0',
  routes(router) {
    router.post(
      '/v1/items',
      { body: v.object({ name: v.pipe(v.string(), v.minLength(1)), count: v.optional(v.number()) }), meta: [rateLimit({ group: 'items.create', limit: 5, windowSeconds: 60 })], summary: 'Create an item', responses: { 201: 'The item' }, problems: ['duplicate_item'] },
      (http) => {
        http.status = 201;
      },
    );
    router.get('/v1/items/:id', { summary: 'One item' }, (http) => {
      http.body = { id: http.params.id };
    });
  },
});

describe('openapi plugin', () => {
  let t: TestKernel;
  before(async () => {
    t = await createTestKernel({ plugins: [healthPlugin, openApiPlugin, ratelimitPlugin, items] });
  });
  after(() => t.close());

  it('serves an OpenAPI 3.1 document generated from every registered route', async () => {
    const res = await t.inject({ url: '/openapi.json' });
    assert.equal(res.statusCode, 200);
    const doc = res.json();
    assert.equal(doc.openapi, '3.1.0');
    assert.deepEqual(Object.keys(doc.paths).sort(), ['/health/live', '/health/ready', '/openapi.json', '/v1/items', '/v1/items/{id}']);
    const create = doc.paths['/v1/items'].post;
    assert.equal(create.summary, 'Create an item');
    assert.equal(create.tags[0], 'items');
    assert.deepEqual(create.requestBody.content['application/json'].schema.required, ['name']);
    assert.equal(create.requestBody.content['application/json'].schema.properties.name.minLength, 1);
    assert.equal(create.responses['201'].description, 'The item');
    assert.match(create.responses.default.description, /duplicate_item/);
    assert.match(create.responses.default.description, /validation_failed/);
    assert.match(create.responses.default.description, /rate_limited/);
    assert.match(create.description, /Rate-limit group "items.create": 5 requests per 60 s/);
    assert.doesNotMatch(doc.paths['/health/live'].get.responses.default.description, /rate_limited/, 'probes are exempt');
    assert.deepEqual(doc.paths['/v1/items/{id}'].get.parameters, [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }]);
    assert.ok(doc.components.schemas.Problem.required.includes('code'));
    assert.ok(doc.paths['/health/ready'].get.responses['503']);
  });
});
