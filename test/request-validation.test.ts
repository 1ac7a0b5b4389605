/**
 * Route `query` and `params` schemas: typed and converted values in `http.state`, 422
 * `validation_failed` naming each parameter, control characters refused in every query value and
 * path parameter (schema or not), and all of it before the body is read.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as v from 'valibot';
import { definePlugin, paginationQuery, type RawParams, type RawQuery } from '../core/index.ts';
import { createTestKernel, type TestKernel } from '../host/testing.ts';
import { expectProblem } from './support/expect-problem.ts';

/** Compile-time checks: `assertType<Equal<A, B>>()` fails `npm run typecheck` when A is not B. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const assertType = <T extends true>(): void => undefined;

const ItemParams = v.object({ id: v.pipe(v.string(), v.regex(/^[0-9]{1,9}$/, 'must be a number'), v.toNumber()) });
const SearchQuery = v.object({
  ...paginationQuery,
  status: v.optional(v.picklist(['draft', 'live'], 'must be draft or live')),
  tag: v.optional(v.union([v.string(), v.array(v.string())], 'must be text')),
});

const catalog = definePlugin({
  id: 'catalog',
  version: '1.0.0',
  routes(router) {
    router.get('/v1/catalog/items', { query: SearchQuery }, (http) => {
      assertType<Equal<typeof http.state.query, v.InferOutput<typeof SearchQuery>>>();
      assertType<Equal<typeof http.state.query.limit, number>>();
      assertType<Equal<typeof http.state.params, RawParams>>();
      http.body = { query: http.state.query, limitType: typeof http.state.query.limit };
    });
    router.get(
      '/v1/catalog/items/:id',
      { params: ItemParams, query: v.object({ verbose: v.optional(v.picklist(['true', 'false'], 'must be true or false')) }) },
      (http) => {
        assertType<Equal<typeof http.state.params.id, number>>();
        assertType<Equal<typeof http.state.query.verbose, 'true' | 'false' | undefined>>();
        http.body = { id: http.state.params.id, idType: typeof http.state.params.id, verbose: http.state.query.verbose ?? null };
      },
    );
    router.post('/v1/catalog/items/:id', { params: ItemParams, body: v.object({ name: v.string() }) }, (http) => {
      assertType<Equal<typeof http.state.body, { name: string }>>();
      http.body = { id: http.state.params.id, name: http.state.body.name };
    });
    // No schemas: the raw values, still checked for control characters.
    router.get('/v1/catalog/raw/:slug', (http) => {
      assertType<Equal<typeof http.state.query, RawQuery>>();
      assertType<Equal<typeof http.state.params, RawParams>>();
      http.body = { query: { ...http.state.query }, params: { ...http.state.params } };
    });
    router.get('/v1/catalog/plain/:slug', { summary: 'options without schemas' }, (http) => {
      assertType<Equal<typeof http.state.query, RawQuery>>();
      http.body = { slug: http.params.slug };
    });
    if (false as boolean) {
      // Query values are strings: a schema expecting a number for one does not compile.
      // @ts-expect-error `v.number()` can never match a query value
      router.get('/v1/catalog/never', { query: v.object({ limit: v.number() }) }, () => undefined);
      // @ts-expect-error nor can it match a path parameter
      router.get('/v1/catalog/never/:id', { params: v.object({ id: v.number() }) }, () => undefined);
    }
  },
});

describe('query and params schemas', () => {
  let t: TestKernel;
  before(async () => {
    t = await createTestKernel({ plugins: [catalog] });
  });
  after(() => t.close());

  const get = (url: string) => t.inject({ method: 'GET', url });
  const paths = (body: { errors?: { path: string }[] }) => (body.errors ?? []).map((e) => e.path).sort();

  it('hands the handler the schema output: converted, defaulted, unknown keys dropped', async () => {
    const res = await get('/v1/catalog/items?limit=5&status=live&tag=a&tag=b&other=x');
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json(), { query: { limit: 5, status: 'live', tag: ['a', 'b'] }, limitType: 'number' });
    const defaults = await get('/v1/catalog/items');
    assert.equal(defaults.statusCode, 200, defaults.body);
    assert.deepEqual(defaults.json(), { query: { limit: 20 }, limitType: 'number' });
  });

  it('accepts limit 1 and 100, and refuses 0, 101, abc, an empty, decimal or repeated limit naming `limit`', async () => {
    for (const ok of ['1', '100', '020']) {
      const res = await get(`/v1/catalog/items?limit=${ok}`);
      assert.equal(res.statusCode, 200, `limit=${ok}: ${res.body}`);
      assert.equal((res.json() as { query: { limit: number } }).query.limit, Number(ok));
    }
    for (const bad of ['limit=0', 'limit=101', 'limit=abc', 'limit=', 'limit=1.5', 'limit=-1', 'limit=1e1', 'limit=%201', 'limit=1&limit=2', 'limit=1000']) {
      const body = expectProblem(await get(`/v1/catalog/items?${bad}`), 422, 'validation_failed');
      assert.deepEqual(paths(body), ['limit'], bad);
      assert.match(body.errors![0]!.message, /integer from 1 to 100/);
    }
  });

  it('names every failing query parameter', async () => {
    const body = expectProblem(await get('/v1/catalog/items?limit=0&status=gone&tag=ok'), 422, 'validation_failed');
    assert.deepEqual(paths(body), ['limit', 'status']);
    assert.equal(body.errors!.find((e) => e.path === 'status')?.message, 'must be draft or live');
    assert.equal(body.detail, 'The query string is invalid.');
  });

  it('validates and converts path parameters, naming the parameter', async () => {
    const ok = await get('/v1/catalog/items/42');
    assert.equal(ok.statusCode, 200, ok.body);
    assert.deepEqual(ok.json(), { id: 42, idType: 'number', verbose: null });
    const bad = expectProblem(await get('/v1/catalog/items/abc'), 422, 'validation_failed');
    assert.deepEqual(bad.errors, [{ path: 'id', message: 'must be a number' }]);
    assert.equal(bad.detail, 'The path parameters are invalid.');
    const both = expectProblem(await get('/v1/catalog/items/abc?verbose=maybe'), 422, 'validation_failed');
    assert.deepEqual(paths(both), ['id', 'verbose']);
  });

  it('checks parameters before the body is read, after which the body is checked as before', async () => {
    const malformed = { 'content-type': 'application/json' };
    const bad = await t.inject({ method: 'POST', url: '/v1/catalog/items/abc', headers: malformed, payload: '{"name":' });
    assert.deepEqual(expectProblem(bad, 422, 'validation_failed').errors?.map((e) => e.path), ['id']);
    const good = await t.inject({ method: 'POST', url: '/v1/catalog/items/7', headers: malformed, payload: '{"name":' });
    expectProblem(good, 400, 'malformed_body');
    const ok = await t.inject({ method: 'POST', url: '/v1/catalog/items/7', payload: { name: 'Seven' } });
    assert.equal(ok.statusCode, 200, ok.body);
    assert.deepEqual(ok.json(), { id: 7, name: 'Seven' });
  });

  it('never quotes the value received in a message: valibot default messages lose their "but received …"', async () => {
    // A secret typed into the wrong field (a number where text belongs) must not come back.
    const body = expectProblem(await t.inject({ method: 'POST', url: '/v1/catalog/items/7', payload: { name: 123456789 } }), 422, 'validation_failed');
    assert.deepEqual(body.errors, [{ path: 'name', message: 'Invalid type: Expected string' }]);
    const missing = expectProblem(await t.inject({ method: 'POST', url: '/v1/catalog/items/7', payload: {} }), 422, 'validation_failed');
    assert.deepEqual(missing.errors, [{ path: 'name', message: 'is required' }]);
    const raw = await t.inject({ method: 'POST', url: '/v1/catalog/items/7', payload: { name: ['s3cret-in-an-array'] } });
    assert.ok(!raw.body.includes('s3cret'), raw.body);
    assert.ok(!raw.body.includes('received'), raw.body);
  });

  it('passes the raw query and params to routes without schemas', async () => {
    const res = await get('/v1/catalog/raw/caf%C3%A9?q=hello%20world&q=2&x=');
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json(), { query: { q: ['hello world', '2'], x: '' }, params: { slug: 'café' } });
  });

  it('refuses control characters in any query value or path parameter, naming it, schema or not', async () => {
    const cases: [string, string[]][] = [
      ['/v1/catalog/raw/ok?q=a%00b', ['q']],
      ['/v1/catalog/raw/ok?q=line%0Abreak', ['q']],
      ['/v1/catalog/raw/ok?q=tab%09', ['q']],
      ['/v1/catalog/raw/ok?q=%1B%5B31m', ['q']],
      ['/v1/catalog/raw/ok?q=del%7F', ['q']],
      ['/v1/catalog/raw/ok?q=fine&q=bad%0D', ['q.1']],
      ['/v1/catalog/raw/a%00b', ['slug']],
      ['/v1/catalog/raw/a%0Ab?q=%07', ['q', 'slug']],
      ['/v1/catalog/plain/a%1Fb', ['slug']],
      ['/v1/catalog/items?status=live%00', ['status']],
      ['/v1/catalog/items?limit=1%00', ['limit']],
      ['/v1/catalog/items?tag=x&tag=y%00', ['tag.1']],
      ['/v1/catalog/items?ignored=%00', ['ignored']],
      ['/v1/catalog/items/1%00', ['id']],
    ];
    for (const [url, expected] of cases) {
      const body = expectProblem(await get(url), 422, 'validation_failed');
      assert.deepEqual(paths(body), expected, url);
      for (const e of body.errors!) assert.match(e.message, /control characters/, url);
    }
    // A control character in a parameter's name is refused too.
    const named = expectProblem(await get('/v1/catalog/raw/ok?a%00b=1'), 422, 'validation_failed');
    assert.match(named.errors![0]!.message, /control characters/);
    // Other text (non-ASCII, spaces, symbols) passes.
    const ok = await get('/v1/catalog/raw/%C3%A9t%C3%A9?q=%E2%82%AC%20%26%20%F0%9F%8E%B5');
    assert.equal(ok.statusCode, 200, ok.body);
    assert.deepEqual(ok.json(), { query: { q: '€ & 🎵' }, params: { slug: 'été' } });
  });
});
