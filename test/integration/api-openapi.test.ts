import { compileErrors, validate } from '@readme/openapi-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiRoutes, openApiDocument } from '../../src/api/index.ts';
import type { WebhookOperation } from '../../src/api/openapi.ts';
import type { Db } from '../../src/store/db.ts';
import { type ApiContext, createApiContext, json } from './api-context.ts';

const HOOKS: WebhookOperation[] = [
  {
    path: '/hooks/github/issues',
    workflow: 'issues',
    description: 'New GitHub issues',
    verify: 'github',
    signatureHeaders: ['x-hub-signature-256'],
    bodySchema: {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      properties: { action: { type: 'string' }, issue: { type: 'object' } },
      required: ['action'],
    },
  },
  { path: '/hooks/ping', workflow: 'ping', verify: 'none', signatureHeaders: [] },
];

let ctx: ApiContext;
beforeAll(async () => {
  ctx = await createApiContext({ extra: { webhookOperations: () => HOOKS } });
});
afterAll(async () => {
  await ctx?.cleanup();
});

type Operation = { responses: Record<string, { content?: Record<string, { schema: unknown }> }> } & Record<
  string,
  unknown
>;
const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

function operations(doc: { paths: Record<string, Record<string, Operation>> }) {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, op]) => ({ id: `${method.toUpperCase()} ${path}`, op })),
  );
}

describe('GET /api/openapi.json', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const { status, body } = await ctx.call('GET', '/api/openapi.json');
    expect(status).toBe(200);
    expect(body.openapi).toBe('3.1.0');
    const result = await validate(structuredClone(body));
    expect(result.valid, result.valid ? '' : compileErrors(result)).toBe(true);
  });

  it('describes every route, and every 4xx/5xx answer as an ErrorResponse', async () => {
    const { body } = await ctx.call('GET', '/api/openapi.json');
    const ids = operations(body).map((o) => o.id);
    expect(ids).toEqual(
      expect.arrayContaining([
        'GET /api/workflows',
        'GET /api/workflows/{name}',
        'POST /api/workflows/{name}/runs',
        'GET /api/runs',
        'GET /api/runs/{id}',
        'GET /api/runs/{id}/logs',
        'POST /api/runs/{id}/cancel',
        'POST /api/runs/{id}/retry',
        'POST /api/runs/{id}/retry-from-failed',
        'GET /api/actions',
        'POST /api/validate',
        'GET /healthz',
        'GET /readyz',
      ]),
    );
    // The routes that exist only to accept names with unencoded "/" stay out of the document.
    expect(Object.keys(body.paths).some((p) => p.includes('{name{'))).toBe(false);
    for (const { id, op } of operations(body)) {
      for (const [status, response] of Object.entries(op.responses)) {
        if (Number(status) < 400 || id === 'GET /readyz') continue;
        expect(response.content?.['application/json']?.schema, `${id} ${status}`).toEqual({
          $ref: '#/components/schemas/ErrorResponse',
        });
      }
    }
    const trigger = body.paths['/api/workflows/{name}/runs'].post;
    expect(Object.keys(trigger.responses).sort()).toEqual(
      ['200', '201', '400', '401', '404', '409', '413', '415', '422', '500'].sort(),
    );
    expect(body.components.schemas.ErrorResponse.properties.error.required).toEqual(['code', 'message']);
  });

  it('has one operation per webhook workflow with its signature headers and body schema', async () => {
    const { body } = await ctx.call('GET', '/api/openapi.json');
    const hook = body.paths['/hooks/github/issues'].post;
    expect(hook.parameters).toEqual([
      expect.objectContaining({ name: 'x-hub-signature-256', in: 'header', required: true }),
    ]);
    expect(hook.requestBody.content['application/json'].schema).toEqual({
      type: 'object',
      properties: { action: { type: 'string' }, issue: { type: 'object' } },
      required: ['action'],
    });
    expect(Object.keys(hook.responses).sort()).toEqual([
      '200',
      '202',
      '400',
      '401',
      '404',
      '409',
      '413',
      '422',
      '500',
    ]);
    expect(hook.security).toEqual([]);
    const ping = body.paths['/hooks/ping'].post;
    expect(ping.parameters).toEqual([]);
    expect(Object.keys(ping.requestBody.content)).toContain('text/plain');
    expect(body.components.schemas.WebhookAccepted).toBeDefined();
  });

  it('openApiDocument gives the same document; a bearer scheme appears when tokens are configured', async () => {
    const doc = openApiDocument(ctx.deps, { webhookOperations: () => HOOKS });
    expect(doc.security).toBeUndefined();
    expect(Object.keys(doc.paths ?? {})).toEqual(
      Object.keys((await ctx.call('GET', '/api/openapi.json')).body.paths),
    );
    const secured = openApiDocument({ ...ctx.deps, config: { ...ctx.deps.config, apiTokens: ['t0ken'] } });
    expect(secured.security).toEqual([{ bearerAuth: [] }]);
    expect(secured.components?.securitySchemes?.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(secured.paths?.['/healthz']?.get?.security).toEqual([]);
    expect(JSON.stringify(secured)).not.toContain('t0ken');
  });
});

describe('GET /api/docs', () => {
  it('serves swagger-ui from local files only, pointed at /api/openapi.json', async () => {
    const res = await ctx.app.request('/api/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    const html = await res.text();
    expect(html).not.toMatch(/https?:|\/\/[a-z]/i);
    expect(html).not.toMatch(/<script>(?!<)/); // no inline script
    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] as string);
    expect(refs.length).toBeGreaterThanOrEqual(4);
    for (const ref of refs) {
      expect(ref.startsWith('/api/docs/assets/'), ref).toBe(true);
      const asset = await ctx.app.request(ref);
      expect(asset.status, ref).toBe(200);
      expect((await asset.arrayBuffer()).byteLength, ref).toBeGreaterThan(0);
    }
    const bundle = await ctx.app.request('/api/docs/assets/swagger-ui-bundle.js');
    expect(bundle.headers.get('content-type')).toMatch(/javascript/);
    const init = await (await ctx.app.request('/api/docs/assets/init.js')).text();
    expect(init).toContain("url: '/api/openapi.json'");
    expect(init).toContain('validatorUrl: null');
  });

  it('404s anything else under the assets path', async () => {
    for (const name of ['package.json', '..%2Fpackage.json', 'index.html', 'swagger-ui-bundle.js.map']) {
      const { status, body } = await ctx.call('GET', `/api/docs/assets/${name}`);
      expect(status, name).toBe(404);
      expect(body.error.code).toBe('not_found');
    }
  });
});

describe('/healthz and /readyz', () => {
  it('answer ok when the database and the queue answer', async () => {
    expect(await ctx.call('GET', '/healthz')).toMatchObject({ status: 200, body: { ok: true } });
    const ready = await ctx.call('GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({
      ok: true,
      checks: { database: { ok: true }, queue: { ok: true, depth: 0 } },
    });
  });

  it('answer 503 naming the part that is down', async () => {
    const queueDown = apiRoutes({
      ...ctx.deps,
      queue: { ...ctx.deps.queue, depth: () => Promise.reject(new Error('connection refused')) },
    });
    const q = await queueDown.request('/readyz');
    expect(q.status).toBe(503);
    expect(await json(q)).toMatchObject({
      ok: false,
      checks: { database: { ok: true }, queue: { ok: false, error: 'connection refused' } },
      error: { code: 'internal', message: 'not ready: queue not reachable' },
    });
    const dbDown = apiRoutes({
      ...ctx.deps,
      db: { execute: () => Promise.reject(new Error('ECONNREFUSED')) } as unknown as Db,
    });
    const d = await dbDown.request('/readyz');
    expect(d.status).toBe(503);
    expect((await json(d)).checks.database).toEqual({ ok: false, error: 'ECONNREFUSED' });
    // Liveness does not depend on either.
    expect((await dbDown.request('/healthz')).status).toBe(200);
  });
});
