import { z } from '@hono/zod-openapi';

/** Schemas of the API's JSON; each `.openapi('Name')` becomes `#/components/schemas/Name`. */

export const ERROR_CODES = [
  'spec',
  'validation',
  'not_found',
  'conflict',
  'unauthorized',
  'action',
  'timeout',
  'cancelled',
  'internal',
] as const;

export const RUN_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'timed_out'] as const;
export const FINISHED_STATUSES: ReadonlySet<string> = new Set([
  'succeeded',
  'failed',
  'cancelled',
  'timed_out',
]);
export const TRIGGER_TYPES = ['manual', 'api', 'cli', 'webhook', 'schedule', 'poll', 'retry'] as const;

const json = z.unknown().openapi({ description: 'Any JSON value' });
const jsonObject = z.record(z.string(), z.unknown());
const timestamp = z.string().openapi({ format: 'date-time', example: '2025-01-31T09:00:00.000Z' });
const uuid = z.string().openapi({ format: 'uuid', example: '01968a3e-7c1a-7cde-9f00-2b3c4d5e6f70' });

export const ErrorResponse = z
  .object({
    error: z.object({
      code: z.enum(ERROR_CODES),
      message: z.string().openapi({ example: 'no workflow named "deploy"' }),
      details: json.openapi({
        description: 'More about the error (validation issues, problems in a file, …); null when none',
      }),
    }),
  })
  .openapi('ErrorResponse');

export const Problem = z
  .object({
    file: z.string(),
    line: z.number().int(),
    column: z.number().int(),
    message: z.string(),
    path: z.string().optional().openapi({ description: 'Dotted path into the document' }),
  })
  .openapi('Problem');

export const Run = z
  .object({
    id: uuid,
    workflow: z.string(),
    version_id: uuid.openapi({ description: 'The workflow version the run is pinned to' }),
    status: z.enum(RUN_STATUSES),
    trigger_type: z.enum(TRIGGER_TYPES),
    trigger: jsonObject.openapi({ description: 'What templates see as `trigger`' }),
    idempotency_key: z.string().nullable(),
    error: json.nullable(),
    parent_run_id: uuid.nullable().openapi({ description: 'The run this one retries' }),
    cancel_requested: z.boolean(),
    created_at: timestamp,
    started_at: timestamp.nullable(),
    finished_at: timestamp.nullable(),
    url: z.string().openapi({ example: '/api/runs/01968a3e-7c1a-7cde-9f00-2b3c4d5e6f70' }),
  })
  .openapi('Run');

export const TaskRun = z
  .object({
    id: z.number().int(),
    task_id: z.string(),
    attempt: z.number().int().openapi({ description: '0 for a task settled without starting' }),
    action: z.string(),
    status: z.string().openapi({ example: 'succeeded' }),
    input: json.nullable(),
    output: json.nullable(),
    error: json.nullable(),
    reason: z.string().nullable(),
    started_at: timestamp.nullable(),
    finished_at: timestamp.nullable(),
    duration_ms: z.number().int().nullable(),
    retry_at: timestamp.nullable(),
  })
  .openapi('TaskRun');

export const LogLine = z
  .object({
    id: z.number().int(),
    task_id: z.string(),
    attempt: z.number().int(),
    at: timestamp,
    level: z.string(),
    stream: z.string().nullable(),
    message: z.string(),
  })
  .openapi('LogLine');

export const ScheduleSummary = z
  .object({
    id: z.string().openapi({ description: "The entry's id (`id:` or a hash of cron and timezone)" }),
    cron: z.string(),
    timezone: z.string().openapi({ example: 'Europe/Berlin' }),
    overlap: z.enum(['skip', 'queue', 'allow']),
    catchup: z.enum(['none', 'latest', 'all']),
    catchup_limit: z.number().int(),
    next_run_at: timestamp.nullable().openapi({ description: 'Next scheduled time; null while paused' }),
    next_runs: z.array(timestamp).openapi({ description: 'The next 3 scheduled times (empty while paused)' }),
  })
  .openapi('ScheduleSummary');

export const PollStatus = z
  .object({
    primed: z.boolean().openapi({ description: 'The first poll recorded the items that already existed' }),
    last_polled_at: timestamp.nullable(),
    last_success_at: timestamp.nullable(),
    next_poll_at: timestamp.nullable(),
    failures: z.number().int().openapi({ description: 'Failed polls in a row (0 after a success)' }),
    last_error: z.string().nullable(),
    last_new_items: z.number().int().openapi({ description: 'Runs the last successful poll started' }),
    leased: z.boolean().openapi({ description: 'An instance holds the poller lease now' }),
  })
  .openapi('PollStatus');

export const PollSummary = z
  .object({
    action: z.string(),
    interval_ms: z.number().int(),
    items: z.string(),
    key: z.string(),
    fire_existing: z.boolean(),
    status: PollStatus.nullable().openapi({ description: 'null until an instance has polled' }),
  })
  .openapi('PollSummary');

export const TriggerSummary = z
  .object({
    types: z.array(z.enum(['webhook', 'schedule', 'poll', 'manual'])),
    webhook: z
      .object({
        verify: z.string(),
        paths: z.array(z.string()).openapi({ example: ['/hooks/deploy'] }),
        has_schema: z.boolean(),
      })
      .nullable(),
    schedule: z.array(ScheduleSummary),
    schedule_paused: z.boolean().openapi({ description: 'Schedules paused from the API' }),
    poll: PollSummary.nullable(),
    manual: z.object({ inputs: jsonObject }).nullable(),
  })
  .openapi('TriggerSummary');

export const ScheduleState = z
  .object({
    workflow: z.string(),
    paused: z.boolean(),
    changed: z.boolean().openapi({ description: 'False when it already was in that state' }),
  })
  .openapi('ScheduleState');

export const GitSyncStatus = z
  .object({
    remote: z.string().openapi({ description: 'The remote, any password masked' }),
    branch: z.string(),
    commit: z.string().nullable().openapi({ description: 'The commit the checkout is at' }),
    last_sync_at: z.string().nullable(),
    error: z.string().nullable().openapi({ description: 'Why the last sync failed; null when it worked' }),
  })
  .openapi('GitSyncStatus');

export const WorkflowSummary = z
  .object({
    name: z.string(),
    description: z.string().nullable(),
    file: z.string().openapi({ description: 'Path of the file under the workflows folder' }),
    valid: z.boolean().openapi({ description: 'The file loads without problems' }),
    problems: z.array(Problem),
    version: z
      .string()
      .nullable()
      .openapi({ description: 'Content hash of the current good definition; null when there is none' }),
    triggers: TriggerSummary,
    next_run_at: timestamp.nullable().openapi({ description: 'Earliest next scheduled time, if scheduled' }),
  })
  .openapi('WorkflowSummary');

export const WorkflowVersion = z
  .object({
    id: uuid,
    hash: z.string(),
    created_at: timestamp,
    git_commit: z.string().nullable(),
    current: z.boolean(),
  })
  .openapi('WorkflowVersion');

export const WorkflowDetail = WorkflowSummary.extend({
  definition: jsonObject.nullable().openapi({ description: 'The normalized definition (last good one)' }),
  source: z.string().nullable().openapi({ description: 'The file as it is on disk now' }),
  versions: z.array(WorkflowVersion).openapi({ description: 'Stored versions, newest first' }),
}).openapi('WorkflowDetail');

export const RunCreated = z.object({ run: Run, url: z.string() }).openapi('RunCreated');

export const RunWithTasks = z.object({ run: Run, tasks: z.array(TaskRun) }).openapi('RunWithTasks');

export const ActionInfo = z
  .object({
    name: z.string(),
    description: z.string(),
    secrets: z.array(z.string()),
    input_schema: jsonObject.openapi({ description: 'JSON Schema of the inputs (before defaults)' }),
    output_schema: jsonObject.openapi({ description: 'JSON Schema of the output' }),
  })
  .openapi('ActionInfo');

export const ActionProblem = z.object({ file: z.string(), message: z.string() }).openapi('ActionProblem');

export const ValidateResult = z
  .object({
    valid: z.boolean(),
    name: z.string().nullable().openapi({ description: "The workflow's name when it is valid" }),
    problems: z.array(Problem),
  })
  .openapi('ValidateResult');

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Malformed request (the body is not valid JSON)',
  401: 'Missing or wrong bearer token',
  404: 'Not found',
  409: 'Conflict with the current state',
  413: 'Request body too large',
  415: 'Unsupported Content-Type',
  422: 'The request failed validation; `details.issues` (or `details.problems`) says where',
  500: 'Internal error',
  503: 'Not ready',
};

type ErrorStatus = 400 | 401 | 404 | 409 | 413 | 415 | 422 | 500 | 503;

/** Error responses of a route, all in the ErrorResponse shape; 401 and 500 are always there. */
export function errorResponses<S extends ErrorStatus>(...statuses: S[]) {
  const all = [...new Set<ErrorStatus>([...statuses, 401, 500])].sort();
  return Object.fromEntries(
    all.map((status) => [
      status,
      {
        description: ERROR_DESCRIPTIONS[status] ?? 'Error',
        content: { 'application/json': { schema: ErrorResponse } },
      },
    ]),
  ) as Record<
    S | 401 | 500,
    { description: string; content: { 'application/json': { schema: typeof ErrorResponse } } }
  >;
}
