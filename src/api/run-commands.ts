import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { ConflictError } from '../errors.ts';
import { cancelQueuedRun, createRetryRun } from '../store/run-queries.ts';
import { getRun, requestCancel } from '../store/runs.ts';
import type { RunRow } from '../store/schema.ts';
import type { ApiDeps } from './deps.ts';
import { presentRun, runUrl } from './present.ts';
import { RunIdParam, runOr404 } from './runs.ts';
import { errorResponses, FINISHED_STATUSES, Run, RunCreated } from './schemas.ts';

const cancelRoute = createRoute({
  method: 'post',
  path: '/api/runs/{id}/cancel',
  tags: ['runs'],
  operationId: 'cancelRun',
  summary: 'Cancel a queued or running run',
  description:
    'A queued run nobody has started is cancelled at once; a running one is flagged, and its worker ' +
    'stops it within a heartbeat (its tasks see their AbortSignal fire).',
  request: { params: RunIdParam },
  responses: {
    202: {
      description: 'Cancellation accepted (the run may already show status cancelled)',
      content: { 'application/json': { schema: z.object({ run: Run }).openapi('RunEnvelope') } },
    },
    ...errorResponses(404, 409),
  },
});

const retryRoute = createRoute({
  method: 'post',
  path: '/api/runs/{id}/retry',
  tags: ['runs'],
  operationId: 'retryRun',
  summary: 'Run a finished run again: same workflow version, same trigger data and inputs',
  request: { params: RunIdParam },
  responses: {
    201: { description: 'The new run, queued', content: { 'application/json': { schema: RunCreated } } },
    ...errorResponses(404, 409),
  },
});

const retryFromFailedRoute = createRoute({
  method: 'post',
  path: '/api/runs/{id}/retry-from-failed',
  tags: ['runs'],
  operationId: 'retryRunFromFailed',
  summary: "Run again from where it failed: the original's succeeded tasks are reused, the rest run",
  description:
    'Only for runs that failed, timed out or were cancelled. The new run pins the same version; ' +
    'tasks that succeeded keep their outputs (copied into the new run) and are not run again.',
  request: { params: RunIdParam },
  responses: {
    201: {
      description: 'The new run, queued',
      content: {
        'application/json': {
          schema: RunCreated.extend({
            reused_tasks: z.array(z.string()).openapi({ description: 'Tasks copied from the original run' }),
          }).openapi('RetryFromFailedCreated'),
        },
      },
    },
    ...errorResponses(404, 409),
  },
});

/** After the commit: a failed enqueue only delays the run (the reconciler enqueues it later). */
async function enqueue(deps: ApiDeps, run: RunRow): Promise<void> {
  try {
    await deps.queue.enqueue(run.id);
  } catch (err) {
    console.warn(
      `[api] run ${run.id} is saved but not yet queued (${(err as Error).message}); the reconciler will queue it`,
    );
  }
}

function assertFinished(run: RunRow, what: string): void {
  if (!FINISHED_STATUSES.has(run.status)) {
    throw new ConflictError(`run ${run.id} is still ${run.status}; ${what} once it has finished`, {
      details: { status: run.status },
    });
  }
}

/**
 * Cancels a queued run at once or flags a running one for its worker; 409 when it has finished.
 * Shared by the API and the pages.
 */
export async function cancelRun(deps: ApiDeps, id: string): Promise<RunRow> {
  const run = await runOr404(deps, id);
  if (!FINISHED_STATUSES.has(run.status)) {
    const cancelled = await cancelQueuedRun(deps.db, run.id);
    if (cancelled) return cancelled;
    if (await requestCancel(deps.db, run.id)) return (await getRun(deps.db, run.id)) ?? run;
  }
  // Finished before or while we looked.
  const status = (await getRun(deps.db, run.id))?.status ?? run.status;
  throw new ConflictError(`run ${run.id} has already finished (${status}); nothing to cancel`, {
    details: { status },
  });
}

/**
 * A new queued run repeating a finished one; `fromFailed` reuses the original's succeeded tasks
 * (409 for a run that succeeded). Shared by the API and the pages.
 */
export async function retryRun(
  deps: ApiDeps,
  id: string,
  options: { fromFailed: boolean },
): Promise<{ run: RunRow; reusedTasks: string[] }> {
  const original = await runOr404(deps, id);
  if (!options.fromFailed) {
    assertFinished(original, 'retry it');
    const { run } = await createRetryRun(deps.db, original, { reuseSucceeded: false });
    await enqueue(deps, run);
    return { run, reusedTasks: [] };
  }
  assertFinished(original, 'retry it from where it failed');
  if (original.status === 'succeeded') {
    throw new ConflictError(`run ${original.id} succeeded; there is nothing to retry from (use /retry)`, {
      details: { status: original.status },
    });
  }
  const result = await createRetryRun(deps.db, original, { reuseSucceeded: true });
  await enqueue(deps, result.run);
  return result;
}

export function registerRunCommandRoutes(app: OpenAPIHono, deps: ApiDeps): void {
  app.openapi(cancelRoute, async (c) => {
    const run = await cancelRun(deps, c.req.valid('param').id);
    return c.json({ run: presentRun(run) }, 202);
  });

  app.openapi(retryRoute, async (c) => {
    const { run } = await retryRun(deps, c.req.valid('param').id, { fromFailed: false });
    c.header('Location', runUrl(run.id));
    return c.json({ run: presentRun(run), url: runUrl(run.id) }, 201);
  });

  app.openapi(retryFromFailedRoute, async (c) => {
    const { run, reusedTasks } = await retryRun(deps, c.req.valid('param').id, { fromFailed: true });
    c.header('Location', runUrl(run.id));
    return c.json({ run: presentRun(run), url: runUrl(run.id), reused_tasks: reusedTasks }, 201);
  });
}
