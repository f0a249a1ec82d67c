import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { coerceError, type ErrorCode, NotFoundError, serializeError, ValidationError } from './errors.ts';
import type { Runtime } from './runtime.ts';
import { getRun } from './store/runs.ts';
import { listTaskRuns } from './store/task-runs.ts';

const STATUS: Record<ErrorCode, ContentfulStatusCode> = {
  spec: 422,
  validation: 422,
  not_found: 404,
  conflict: 409,
  unauthorized: 401,
  action: 500,
  timeout: 504,
  cancelled: 409,
  internal: 500,
};

/**
 * The HTTP front door. Today: health, listing workflows, starting runs and reading them back;
 * the OpenAPI API, webhooks and pages build on this app.
 */
export function createApp(runtime: Runtime): Hono {
  const app = new Hono();

  app.onError(function mapError(err, c) {
    const e = coerceError(err);
    return c.json({ error: serializeError(e) }, STATUS[e.code]);
  });
  app.notFound((c) =>
    c.json({ error: { code: 'not_found', message: `no route for ${c.req.method} ${c.req.path}` } }, 404),
  );

  app.get('/healthz', (c) => c.json({ ok: true }));
  app.get('/readyz', async (c) => {
    await runtime.store.db.execute('select 1');
    await runtime.queue.depth();
    return c.json({ ok: true });
  });

  app.get('/api/workflows', (c) =>
    c.json({
      workflows: [...runtime.workflows().values()].map((w) => ({
        name: w.name,
        description: w.description ?? null,
        version: w.source.hash,
        triggers: Object.keys(w.triggers),
        tasks: w.tasks.map((t) => t.id),
      })),
    }),
  );

  app.post(
    '/api/workflows/:name{.+}/runs',
    bodyLimit({
      maxSize: runtime.config.bodyLimitBytes,
      onError: (c) => c.json({ error: { code: 'validation', message: 'request body is too large' } }, 413),
    }),
    async (c) => {
      const name = c.req.param('name');
      const text = await c.req.text();
      let body: { inputs?: unknown } = {};
      if (text.trim() !== '') {
        try {
          body = JSON.parse(text);
        } catch (err) {
          throw new ValidationError(`request body is not valid JSON: ${(err as Error).message}`);
        }
      }
      const key = c.req.header('idempotency-key');
      const { run, created } = await runtime.startRun(name, {
        trigger: { type: 'api', inputs: (body.inputs ?? {}) as Record<string, unknown> },
        ...(key ? { idempotencyKey: key } : {}),
      });
      return c.json({ run, url: `/api/runs/${run.id}` }, created ? 201 : 200);
    },
  );

  app.get('/api/runs/:id', async (c) => {
    const id = c.req.param('id');
    const run = /^[0-9a-f-]{36}$/i.test(id) ? await getRun(runtime.store.db, id) : undefined;
    if (!run) throw new NotFoundError(`no run ${id}`);
    return c.json({ run, tasks: await listTaskRuns(runtime.store.db, id) });
  });

  return app;
}
