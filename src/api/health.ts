import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import type { ApiDeps } from './deps.ts';
import { errorBody } from './errors.ts';
import { ERROR_CODES } from './schemas.ts';

/** How long one readiness check may take before it counts as unreachable. */
export const READY_TIMEOUT_MS = 3000;

const Check = z
  .object({
    ok: z.boolean(),
    error: z.string().optional(),
    depth: z.number().int().optional().openapi({ description: 'Queue: messages waiting or in flight' }),
  })
  .openapi('ReadinessCheck');

const Readiness = z
  .object({
    ok: z.boolean(),
    checks: z.object({ database: Check, queue: Check }),
    error: z
      .object({ code: z.enum(ERROR_CODES), message: z.string(), details: z.unknown() })
      .optional()
      .openapi({ description: 'Set when not ready, in the shape of every API error' }),
  })
  .openapi('Readiness');

const healthRoute = createRoute({
  method: 'get',
  path: '/healthz',
  tags: ['health'],
  operationId: 'health',
  summary: 'The process is up',
  security: [],
  responses: {
    200: {
      description: 'Up',
      content: { 'application/json': { schema: z.object({ ok: z.literal(true) }).openapi('Health') } },
    },
  },
});

const readyRoute = createRoute({
  method: 'get',
  path: '/readyz',
  tags: ['health'],
  operationId: 'ready',
  summary: 'The database and the queue are reachable',
  security: [],
  responses: {
    200: { description: 'Ready', content: { 'application/json': { schema: Readiness } } },
    503: {
      description: 'Not ready; `checks` says which part failed',
      content: { 'application/json': { schema: Readiness } },
    },
  },
});

async function check<T>(probe: () => Promise<T>): Promise<{ ok: boolean; value?: T; error?: string }> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const value = await Promise.race([
      probe(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${READY_TIMEOUT_MS}ms`)),
          READY_TIMEOUT_MS,
        );
      }),
    ]);
    return { ok: true, value };
  } catch (err) {
    return { ok: false, error: (err as Error).message || String(err) };
  } finally {
    clearTimeout(timer);
  }
}

export function registerHealthRoutes(app: OpenAPIHono, deps: ApiDeps): void {
  app.openapi(healthRoute, (c) => c.json({ ok: true as const }, 200));

  app.openapi(readyRoute, async (c) => {
    const [db, queue] = await Promise.all([
      check(() => deps.db.execute(sql`select 1`)),
      check(() => deps.queue.depth()),
    ]);
    const checks = {
      database: db.ok ? { ok: true } : { ok: false, error: db.error ?? 'unreachable' },
      queue: queue.ok
        ? { ok: true, depth: queue.value as number }
        : { ok: false, error: queue.error ?? 'unreachable' },
    };
    if (db.ok && queue.ok) return c.json({ ok: true, checks }, 200);
    const failing = [!db.ok && 'database', !queue.ok && 'queue'].filter(Boolean).join(' and ');
    const { error } = errorBody('internal', `not ready: ${failing} not reachable`, { checks });
    return c.json({ ok: false, checks, error }, 503);
  });
}
