import { OpenAPIHono } from '@hono/zod-openapi';
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { apiRoutes, errorHandler, notFoundHandler } from '../../src/api/index.ts';
import {
  ConflictError,
  NotFoundError,
  SpecError,
  UnauthorizedError,
  ValidationError,
} from '../../src/errors.ts';
import type { Db } from '../../src/store/db.ts';
import { type ApiContext, createApiContext, json } from './api-context.ts';

let ctx: ApiContext;
beforeAll(async () => {
  ctx = await createApiContext();
});
afterAll(async () => {
  await ctx?.cleanup();
});

function appThrowing(err: unknown) {
  const app = new OpenAPIHono();
  app.onError(errorHandler);
  app.notFound(notFoundHandler);
  app.get('/boom', () => {
    throw err;
  });
  return app;
}

describe('errorHandler', () => {
  it('maps each typed error to its status, keeping code, message and details', async () => {
    const problems = [{ file: 'a.yaml', line: 2, column: 3, message: 'bad' }];
    const cases: [unknown, number, string, unknown][] = [
      [new ValidationError('nope', { details: { x: 1 } }), 422, 'validation', { x: 1 }],
      [new SpecError('broken file', problems), 422, 'spec', { problems }],
      [new NotFoundError('gone'), 404, 'not_found', null],
      [new ConflictError('busy'), 409, 'conflict', null],
      [new UnauthorizedError('who are you'), 401, 'unauthorized', null],
    ];
    for (const [err, status, code, details] of cases) {
      const res = await appThrowing(err).request('/boom');
      expect(res.status, code).toBe(status);
      expect(await json(res)).toEqual({ error: { code, message: (err as Error).message, details } });
    }
  });

  it('answers 500 without the cause for anything untyped (the cause goes to the log)', async () => {
    const log = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const res = await appThrowing(new Error('connect failed: password=hunter2')).request('/boom');
      expect(res.status).toBe(500);
      const body = await json(res);
      expect(body.error).toMatchObject({ code: 'internal', details: null });
      expect(JSON.stringify(body)).not.toContain('hunter2');
      expect(log).toHaveBeenCalled();
    } finally {
      log.mockRestore();
    }
  });

  it("keeps an HTTPException's status and a 401's WWW-Authenticate challenge", async () => {
    const challenge = new Response(null, {
      status: 401,
      headers: { 'www-authenticate': 'Bearer realm="baton"' },
    });
    const res = await appThrowing(new HTTPException(401, { res: challenge, message: 'no token' })).request(
      '/boom',
    );
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="baton"');
    expect(await json(res)).toEqual({ error: { code: 'unauthorized', message: 'no token', details: null } });
  });

  it('is what the API answers when the store fails', async () => {
    const log = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const broken = {
        select() {
          throw new Error('relation "runs" does not exist');
        },
      } as unknown as Db;
      const app = apiRoutes({ ...ctx.deps, db: broken });
      const res = await app.request('/api/runs/01968a3e-7c1a-7cde-9f00-2b3c4d5e6f70');
      expect(res.status).toBe(500);
      expect((await json(res)).error.code).toBe('internal');
    } finally {
      log.mockRestore();
    }
  });
});

describe('mounted in a parent app (as server.ts does)', () => {
  it('keeps its error shape, validation hook and routes', async () => {
    const parent = new Hono();
    parent.get('/other', (c) => c.text('other'));
    parent.route('/', ctx.app);
    parent.notFound(notFoundHandler);
    const missing = await parent.request('/api/runs/01968a3e-7c1a-7cde-9f00-2b3c4d5e6f70');
    expect(missing.status).toBe(404);
    expect((await json(missing)).error.code).toBe('not_found');
    const invalid = await parent.request('/api/runs?limit=0');
    expect(invalid.status).toBe(422);
    expect((await json(invalid)).error.details.target).toBe('query');
    const malformed = await parent.request('/api/validate', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{',
    });
    expect(malformed.status).toBe(400);
    expect((await json(malformed)).error.code).toBe('validation');
    expect((await parent.request('/other')).status).toBe(200);
    expect((await json(await parent.request('/nowhere'))).error.code).toBe('not_found');
  });
});

describe('the docs page', () => {
  it('sets its own Content-Security-Policy: same origin only, inline styles for swagger-ui', async () => {
    const res = await ctx.app.request('/api/docs');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-eval');
    expect(csp).not.toMatch(/https?:/);
  });
});
