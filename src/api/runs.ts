import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { NotFoundError } from '../errors.ts';
import { listRuns } from '../store/run-queries.ts';
import { getRun } from '../store/runs.ts';
import type { RunRow } from '../store/schema.ts';
import { listLogs, listTaskRuns } from '../store/task-runs.ts';
import type { ApiDeps } from './deps.ts';
import { presentLog, presentRun, presentTaskRun, UUID } from './present.ts';
import { errorResponses, LogLine, RUN_STATUSES, Run, RunWithTasks, TRIGGER_TYPES } from './schemas.ts';

export const RunIdParam = z.object({
  id: z.string().openapi({ param: { name: 'id', in: 'path' }, format: 'uuid', description: 'Run id' }),
});

/** The run, or 404 (also for ids that are not UUIDs, which cannot name a run). */
export async function runOr404(deps: ApiDeps, id: string): Promise<RunRow> {
  const run = UUID.test(id) ? await getRun(deps.db, id) : undefined;
  if (!run) throw new NotFoundError(`no run ${id}`);
  return run;
}

/** `?status=failed` or `?status=failed&status=timed_out`. */
function oneOrMany<T extends readonly [string, ...string[]]>(values: T, description: string) {
  const error = `must be one of ${values.join(', ')}`;
  return z
    .union([z.enum(values, { error }), z.array(z.enum(values, { error }))], { error })
    .optional()
    .openapi({ description });
}

const asList = <T>(value: T | T[] | undefined): T[] | undefined =>
  value === undefined ? undefined : Array.isArray(value) ? value : [value];

const dateTime = (description: string) =>
  z.iso.datetime({ offset: true }).optional().openapi({ description, example: '2025-01-31T00:00:00Z' });

const ListQuery = z.object({
  workflow: z.string().min(1).optional().openapi({ description: 'Only runs of this workflow' }),
  status: oneOrMany(RUN_STATUSES, 'Only runs in this status (repeat the parameter for several)'),
  trigger_type: oneOrMany(TRIGGER_TYPES, 'Only runs started this way (repeat the parameter for several)'),
  created_after: dateTime('Only runs created at or after this time'),
  created_before: dateTime('Only runs created before this time'),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(200)
    .default(50)
    .openapi({ type: 'integer', minimum: 1, maximum: 200, default: 50, description: 'Runs per page' }),
  cursor: z
    .string()
    .optional()
    .openapi({ description: 'The next_cursor of the previous page; leave out for the first page' }),
});

const listRoute = createRoute({
  method: 'get',
  path: '/api/runs',
  tags: ['runs'],
  operationId: 'listRuns',
  summary: 'List runs, newest first, a page at a time',
  request: { query: ListQuery },
  responses: {
    200: {
      description: 'One page of runs',
      content: {
        'application/json': {
          schema: z
            .object({
              runs: z.array(Run),
              next_cursor: z.string().nullable().openapi({ description: 'null on the last page' }),
            })
            .openapi('RunPage'),
        },
      },
    },
    ...errorResponses(422),
  },
});

const getRoute = createRoute({
  method: 'get',
  path: '/api/runs/{id}',
  tags: ['runs'],
  operationId: 'getRun',
  summary: 'One run with every attempt of its tasks',
  request: { params: RunIdParam },
  responses: {
    200: { description: 'The run', content: { 'application/json': { schema: RunWithTasks } } },
    ...errorResponses(404),
  },
});

const LogsQuery = z.object({
  task: z.string().min(1).optional().openapi({ description: 'Only lines of this task' }),
  after: z.coerce.number().int().min(0).optional().openapi({
    type: 'integer',
    minimum: 0,
    description: 'Only lines with a larger id (the last id you have)',
  }),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(5000)
    .default(1000)
    .openapi({ type: 'integer', minimum: 1, maximum: 5000, default: 1000 }),
});

const logsRoute = createRoute({
  method: 'get',
  path: '/api/runs/{id}/logs',
  tags: ['runs'],
  operationId: 'getRunLogs',
  summary: 'Log lines of a run or of one task, oldest first',
  request: { params: RunIdParam, query: LogsQuery },
  responses: {
    200: {
      description: 'Log lines',
      content: {
        'application/json': {
          schema: z
            .object({
              logs: z.array(LogLine),
              next_after: z
                .number()
                .int()
                .nullable()
                .openapi({ description: 'Pass as `after` to get only newer lines (null: none yet)' }),
            })
            .openapi('LogPage'),
        },
      },
    },
    ...errorResponses(404, 422),
  },
});

export function registerRunRoutes(app: OpenAPIHono, deps: ApiDeps): void {
  app.openapi(listRoute, async (c) => {
    const q = c.req.valid('query');
    const page = await listRuns(
      deps.db,
      {
        ...(q.workflow !== undefined ? { workflow: q.workflow } : {}),
        ...(q.status !== undefined ? { statuses: asList(q.status) } : {}),
        ...(q.trigger_type !== undefined ? { triggerTypes: asList(q.trigger_type) } : {}),
        ...(q.created_after ? { createdAfter: new Date(q.created_after) } : {}),
        ...(q.created_before ? { createdBefore: new Date(q.created_before) } : {}),
      },
      { limit: q.limit, ...(q.cursor !== undefined ? { cursor: q.cursor } : {}) },
    );
    return c.json({ runs: page.runs.map(presentRun), next_cursor: page.nextCursor }, 200);
  });

  app.openapi(getRoute, async (c) => {
    const run = await runOr404(deps, c.req.valid('param').id);
    const tasks = await listTaskRuns(deps.db, run.id);
    return c.json({ run: presentRun(run), tasks: tasks.map(presentTaskRun) }, 200);
  });

  app.openapi(logsRoute, async (c) => {
    const run = await runOr404(deps, c.req.valid('param').id);
    const q = c.req.valid('query');
    const rows = await listLogs(deps.db, run.id, {
      ...(q.task !== undefined ? { taskId: q.task } : {}),
      ...(q.after !== undefined ? { afterId: q.after } : {}),
      limit: q.limit,
    });
    const last = rows.at(-1)?.id ?? q.after ?? null;
    return c.json({ logs: rows.map(presentLog), next_after: last }, 200);
  });
}
