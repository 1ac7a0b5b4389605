import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as v from 'valibot';
import { BootError, configure, createLogger, definePlugin, defineProblems, Kernel, multipartBody, streamBody, type Plugin } from '../core/index.ts';
import { createTestKernel, type TestKernel } from '../host/testing.ts';
import { authPlugin } from '../plugins/auth/index.ts';
import { emailPlugin } from '../plugins/email/index.ts';
import { healthPlugin } from '../plugins/health/index.ts';
import { lockoutPlugin } from '../plugins/lockout/index.ts';
import { metricsPlugin } from '../plugins/metrics/index.ts';
import { openApiPlugin } from '../plugins/openapi/index.ts';
import { rateLimit } from '../plugins/ratelimit/contract.ts';
import { ratelimitPlugin } from '../plugins/ratelimit/index.ts';
import { adminPlugin } from '../plugins/admin/index.ts';
import { artistsPlugin } from '../plugins/artists/index.ts';
import { auditPlugin } from '../plugins/audit/index.ts';
import { tracksPlugin } from '../plugins/tracks/index.ts';
import { w9EncryptionPlugin } from '../plugins/w9-encryption/index.ts';
import { storagePlugin } from '../plugins/storage/index.ts';
import { projectPath } from './support/paths.ts';

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

    // Problems by status: the core's codes under theirs, a code no catalogue declares only in default.
    assert.match(create.responses['422'].description, /validation_failed/);
    assert.equal(create.responses['422'].content['application/problem+json'].schema.$ref, '#/components/schemas/Problem');
    assert.match(create.responses['400'].description, /malformed_body/);
    assert.match(create.responses['429'].description, /rate_limited/, "the ratelimit decorator's 429");
    assert.ok(create.responses['429'].headers['Retry-After']);
    assert.ok(create.responses['201'].headers['RateLimit-Policy']);
    assert.ok(!Object.values(create.responses).some((r) => r !== create.responses.default && /duplicate_item/.test((r as { description: string }).description)));
    assert.equal(doc.paths['/health/live'].get.responses['429'], undefined, 'probes are exempt');
    // Readiness' 503 is both its report and, past its time budget, a problem.
    const ready = doc.paths['/health/ready'].get.responses['503'];
    assert.ok(ready.content['application/json'].schema.properties.checks);
    assert.match(ready.description, /request_timeout/);
    // Response bodies, without the converter's `$schema` anywhere in the document.
    assert.deepEqual(doc.paths['/health/live'].get.responses['200'].content['application/json'].schema, {
      type: 'object',
      properties: { status: { const: 'ok' } },
      required: ['status'],
    });
    assert.doesNotMatch(JSON.stringify(doc), /"\$schema"/);
    // The core knows no authentication: no scheme, nothing required, until a plugin says so.
    assert.deepEqual(doc.components.securitySchemes, {});
    assert.deepEqual(doc.security, []);
    assert.deepEqual(doc.servers, [{ url: '/' }]);
    assert.deepEqual(doc.tags.map((tag: { name: string }) => tag.name), ['health', 'openapi', 'items']);
  });

  it('describes what the readiness route really answers', async () => {
    const res = await t.inject({ url: '/health/ready' });
    const route = t.kernel.routes.find((r) => r.path === '/health/ready')!;
    const declared = route.options.responses?.[res.statusCode];
    assert.ok(declared && typeof declared === 'object' && declared.body);
    v.parse(declared.body, res.json());
  });
});

describe('openapi: query and path parameters, upload bodies', () => {
  const notes = definePlugin({
    id: 'notes',
    version: '1.0.0',
    problems: [defineProblems({ note_archived: { status: 409, title: 'Note archived' } })],
    routes(router) {
      router.get(
        '/v1/notes',
        { summary: 'List notes', query: v.object({ status: v.optional(v.picklist(['draft', 'live'])), q: v.pipe(v.string(), v.minLength(2), v.description('Search text')) }) },
        (http) => void (http.body = { items: [], nextCursor: null }),
      );
      router.put(
        '/v1/notes/:id',
        { summary: 'Replace a note', params: v.object({ id: v.pipe(v.string(), v.uuid()) }), body: v.object({ text: v.string() }), problems: ['note_archived', 'not_found'] },
        (http) => void (http.status = 204),
      );
      router.put('/v1/notes/:id/image', { summary: 'Upload its image', body: streamBody({ maxBytes: 1024, mediaTypes: ['image/png'] }), responses: { 204: 'Stored' } }, (http) => void (http.status = 204));
      router.post(
        '/v1/notes/import',
        { summary: 'Import notes', body: multipartBody({ maxFileBytes: 1000, maxFiles: 1, maxFieldBytes: 100, maxFields: 2, maxTotalBytes: 2000, requiredFiles: ['file'] }), responses: { 201: 'Imported' } },
        (http) => void (http.status = 201),
      );
    },
  });
  let t: TestKernel;
  before(async () => {
    t = await createTestKernel({ plugins: [openApiPlugin, notes] });
  });
  after(() => t.close());

  it('turns query and params schemas into parameters and lists plugin codes by their declared status', async () => {
    const doc = (await t.inject({ url: '/openapi.json' })).json();
    const list = doc.paths['/v1/notes'].get;
    assert.deepEqual(list.parameters, [
      { name: 'status', in: 'query', required: false, schema: { enum: ['draft', 'live'], type: 'string' } },
      { name: 'q', in: 'query', required: true, description: 'Search text', schema: { type: 'string', minLength: 2, description: 'Search text' } },
    ]);
    const put = doc.paths['/v1/notes/{id}'].put;
    assert.deepEqual(put.parameters, [{ name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }]);
    assert.match(put.responses['409'].description, /note_archived \(Note archived\)/);
    assert.match(put.responses['404'].description, /not_found/);
    assert.ok(put.requestBody.required);
    assert.match(doc.components.schemas.Problem.properties.code.description, /note_archived/);

    const image = doc.paths['/v1/notes/{id}/image'].put;
    assert.deepEqual(Object.keys(image.requestBody.content), ['image/png']);
    assert.match(image.requestBody.description, /at most 1024 bytes/);
    assert.match(image.responses['413'].description, /payload_too_large/);
    assert.match(image.responses['415'].description, /unsupported_media_type/);
    const multipart = doc.paths['/v1/notes/import'].post.requestBody.content['multipart/form-data'].schema;
    assert.deepEqual(multipart.required, ['file']);
    assert.equal((await lint(doc)).totals.errors, 0);
  });
});

describe('problem catalogues', () => {
  const plan = (plugins: Plugin[]) => new Kernel({ config: { plugins }, env: {}, mode: 'test', logger: createLogger({ level: 'silent' }), database: { driver: 'pglite' } });
  const declaring = (id: string, status: number) =>
    definePlugin({ id, version: '1.0.0', problems: [defineProblems({ invalid_transition: { status, title: 'Invalid transition' } })] });

  it('knows each code once: one status per code across the core and every plugin', () => {
    const kernel = plan([declaring('artists', 409), declaring('tracks', 409)]);
    assert.equal(kernel.plan.problemCodes.get('invalid_transition')?.status, 409);
    assert.equal(kernel.plan.problemCodes.get('not_found')?.owner, 'core');
    assert.throws(() => plan([declaring('artists', 409), declaring('tracks', 400)]), (err: unknown) => {
      assert.ok(err instanceof BootError);
      assert.match(err.message, /plugin "tracks", problems\.invalid_transition: status 400 conflicts with 409 declared by plugin "artists"/);
      return true;
    });
    const clash = definePlugin({ id: 'clash', version: '1.0.0', problems: [defineProblems({ not_found: { status: 410, title: 'Gone' } })] });
    assert.throws(() => plan([clash]), /status 410 conflicts with 404 declared by the core/);
    assert.throws(() => defineProblems({ teapot: { status: 200, title: 'Not an error' } }), /4xx or 5xx/);
  });
});

/** Lints with @redocly/cli's recommended rules, offline (no telemetry, no update check). */
async function lint(document: unknown): Promise<{ totals: { errors: number; warnings: number }; problems: { ruleId: string; severity: string; message: string; location: { pointer: string }[] }[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'empulse-lint-'));
  try {
    const file = join(dir, 'openapi.json');
    writeFileSync(file, JSON.stringify(document));
    const { NODE_V8_COVERAGE: _coverage, ...env } = process.env;
    const child = spawn(process.execPath, [projectPath('node_modules/@redocly/cli/bin/cli.js'), 'lint', file, '--format=json', '--extends=recommended'], {
      cwd: dir, // no redocly.yaml of the project's is picked up
      env: { ...env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_NOTIFICATIONS: 'true', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    await new Promise((resolve) => child.on('close', resolve));
    try {
      return JSON.parse(stdout);
    } catch {
      return assert.fail(`redocly lint printed no report:\n${stdout}\n${stderr}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('openapi: the document of every built-in plugin', () => {
  const JWT_SECRET = 'openapi-test-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
  let t: TestKernel;
  let outboxDir: string;
  let doc: any;
  before(async () => {
    outboxDir = mkdtempSync(join(tmpdir(), 'empulse-openapi-'));
    // The plugins of empulse.config.ts.
    t = await createTestKernel({
      plugins: [
        healthPlugin,
        metricsPlugin,
        openApiPlugin,
        configure(emailPlugin, { transport: 'outbox', outboxDir }),
        authPlugin,
        configure(storagePlugin, { dir: join(outboxDir, 'storage') }),
        lockoutPlugin,
        ratelimitPlugin,
        auditPlugin,
        adminPlugin,
        artistsPlugin,
        tracksPlugin,
        w9EncryptionPlugin,
      ],
      env: { JWT_SECRET },
    });
    doc = (await t.inject({ url: '/openapi.json' })).json();
  });
  after(async () => {
    await t.close();
    rmSync(outboxDir, { recursive: true, force: true });
  });

  const resolve = (node: { $ref?: string }): any => {
    if (!node.$ref) return node;
    const name = node.$ref.replace('#/components/schemas/', '');
    assert.ok(doc.components.schemas[name], `${node.$ref} resolves`);
    return doc.components.schemas[name];
  };

  it('documents auth: response schemas, security, cookie mode and problems by status', () => {
    const me = doc.paths['/v1/me'].get;
    const user = resolve(me.responses['200'].content['application/json'].schema);
    assert.equal(me.responses['200'].content['application/json'].schema.$ref, '#/components/schemas/User');
    assert.deepEqual([...user.required].sort(), ['createdAt', 'displayName', 'email', 'emailVerified', 'id', 'role']);
    assert.deepEqual(user.properties.role.enum, ['artist', 'admin']);
    assert.equal(user.properties.createdAt.format, 'date-time');
    assert.equal(me.responses['401'].content['application/problem+json'].schema.$ref, '#/components/schemas/Problem');
    assert.match(me.responses['401'].description, /unauthenticated/);
    assert.ok(me.responses['401'].headers['WWW-Authenticate']);
    assert.deepEqual(me.security, [{ bearer: [] }]);

    const schemes = doc.components.securitySchemes;
    assert.deepEqual(schemes.bearer, { ...schemes.bearer, type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
    assert.deepEqual(schemes.refreshCookie, { ...schemes.refreshCookie, type: 'apiKey', in: 'cookie', name: '__Secure-empulse_refresh' });

    const login = doc.paths['/v1/auth/login'].post;
    const mode = login.parameters.find((p: { name: string }) => p.name === 'mode');
    assert.deepEqual({ in: mode.in, required: mode.required, enum: mode.schema.enum }, { in: 'query', required: false, enum: ['cookie'] });
    const pair = resolve(login.responses['200'].content['application/json'].schema);
    assert.deepEqual([...pair.required].sort(), ['accessToken', 'expiresIn', 'tokenType', 'user']);
    assert.equal(pair.properties.tokenType.const, 'Bearer');
    assert.equal(pair.properties.user.$ref, '#/components/schemas/User');
    assert.match(pair.description, /[Cc]ookie mode .*refreshToken/);
    assert.match(login.responses['401'].description, /invalid_credentials/);
    assert.match(login.responses['403'].description, /email_not_verified.*csrf_failed/);
    assert.match(login.responses['423'].description, /account_locked/, 'the lockout plugin declares 423');
    assert.match(login.responses['429'].description, /rate_limited/);
    assert.equal(login.security, undefined, 'public: the document-wide default (none)');

    const register = doc.paths['/v1/auth/register'].post;
    assert.match(register.responses['422'].description, /validation_failed/);
    assert.match(register.responses['422'].description, /weak_password/);
    assert.deepEqual(register.responses['202'].content['application/json'].schema.properties.status, { const: 'verification_sent' });

    assert.deepEqual(doc.paths['/v1/auth/logout'].post.security, [{ bearer: [] }, { refreshCookie: [] }]);
    assert.deepEqual(doc.paths['/v1/auth/refresh'].post.security, [{}, { refreshCookie: [] }]);
    assert.ok(doc.paths['/v1/auth/refresh'].post.parameters.some((p: { name: string; in: string }) => p.name === 'X-CSRF-Token' && p.in === 'header'));
    const sessions = resolve(doc.paths['/v1/auth/sessions'].get.responses['200'].content['application/json'].schema);
    assert.deepEqual([...sessions.required].sort(), ['items', 'nextCursor']);
    assert.equal(sessions.properties.items.items.$ref, '#/components/schemas/Session');
    assert.deepEqual(doc.paths['/v1/auth/sessions/{id}'].delete.security, [{ bearer: [] }]);
    assert.match(doc.paths['/v1/auth/sessions/{id}'].delete.responses['404'].description, /not_found/);

    const ids = Object.values(doc.paths).flatMap((item: any) => Object.values(item).map((op: any) => op.operationId));
    assert.equal(new Set(ids).size, ids.length, 'operationIds are unique');
    assert.doesNotMatch(JSON.stringify(doc), /"\$schema"/);
  });

  it("documents login's mode without making it stricter: an unknown or repeated mode is still body mode", async () => {
    for (const query of ['mode=json', 'mode=cookie&mode=cookie']) {
      const res = await t.inject({ method: 'POST', url: `/v1/auth/login?${query}`, payload: { email: 'nobody@example.test', password: 'not the password at all' } });
      assert.equal(res.statusCode, 401, res.body);
      assert.equal(res.json().code, 'invalid_credentials');
      assert.equal(res.headers['set-cookie'], undefined);
    }
  });

  it('documents the track upload: the metadata part as JSON of TrackMetadata, the audio as binary, X-Content-SHA256', () => {
    const op = doc.paths['/v1/tracks'].post;
    const form = op.requestBody.content['multipart/form-data'];
    assert.deepEqual(form.schema.required, ['metadata', 'audio']);
    assert.equal(form.schema.properties.metadata.contentMediaType, 'application/json');
    const metadata = resolve(form.schema.properties.metadata.contentSchema);
    assert.deepEqual(Object.keys(metadata.properties).sort(), ['artists', 'explicit', 'genre', 'isrc', 'releaseDate', 'title']);
    assert.deepEqual(metadata.required.sort(), ['artists', 'explicit', 'genre', 'title']);
    assert.equal(form.encoding.metadata.contentType, 'application/json');
    const header = op.parameters.find((p: { name: string }) => p.name === 'X-Content-SHA256');
    assert.equal(header.in, 'header');
    assert.equal(header.required, false);
    for (const status of ['201', '400', '403', '413', '415', '422', '429']) assert.ok(op.responses[status], `POST /v1/tracks documents ${status}`);
    assert.equal(resolve(op.responses['201'].content['application/json'].schema).properties.format.enum.length, 4);
    assert.ok(doc.paths['/v1/admin/tracks/{id}/approve'].post.responses['409']);
  });

  it('passes @redocly/cli lint (recommended rules) with zero errors', async (ctx) => {
    const report = await lint(doc);
    const errors = report.problems.filter((p) => p.severity === 'error');
    assert.deepEqual(errors.map((p) => `${p.ruleId} at ${p.location[0]?.pointer}: ${p.message}`), []);
    assert.equal(report.totals.errors, 0);
    const warnings = report.problems.filter((p) => p.severity === 'warn').map((p) => `${p.ruleId} at ${p.location[0]?.pointer}`);
    ctx.diagnostic(`redocly lint: 0 errors, ${report.totals.warnings} warning(s)${warnings.length > 0 ? `: ${warnings.join('; ')}` : ''}`);
  });

  it('has no warning once the operator sets the license', async () => {
    const licensed = await createTestKernel({
      plugins: [configure(openApiPlugin, { license: { name: 'Proprietary', url: 'https://label.example/terms' } }), healthPlugin],
    });
    try {
      const licensedDoc = (await licensed.inject({ url: '/openapi.json' })).json();
      assert.deepEqual(licensedDoc.info.license, { name: 'Proprietary', url: 'https://label.example/terms' });
      const report = await lint(licensedDoc);
      assert.deepEqual(report.totals, { ...report.totals, errors: 0, warnings: 0 }, JSON.stringify(report.problems.map((p) => p.ruleId)));
    } finally {
      await licensed.close();
    }
  });
});
