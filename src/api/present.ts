import type { z } from '@hono/zod-openapi';
import type { RunRow, TaskLogRow, TaskRunRow } from '../store/schema.ts';
import type { LogLine, Run, TaskRun } from './schemas.ts';

/** Rows as the API shows them: snake_case, ISO timestamps, no lease internals. */

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export const runUrl = (id: string) => `/api/runs/${id}`;

export function presentRun(row: RunRow): z.infer<typeof Run> {
  return {
    id: row.id,
    workflow: row.workflow,
    version_id: row.versionId,
    status: row.status as z.infer<typeof Run>['status'],
    trigger_type: row.triggerType as z.infer<typeof Run>['trigger_type'],
    trigger: (row.trigger ?? {}) as Record<string, unknown>,
    idempotency_key: row.idempotencyKey,
    error: row.error ?? null,
    parent_run_id: row.parentRunId,
    cancel_requested: row.cancelRequested,
    created_at: row.createdAt.toISOString(),
    started_at: iso(row.startedAt),
    finished_at: iso(row.finishedAt),
    url: runUrl(row.id),
  };
}

export function presentTaskRun(row: TaskRunRow): z.infer<typeof TaskRun> {
  return {
    id: row.id,
    task_id: row.taskId,
    attempt: row.attempt,
    action: row.action,
    status: row.status,
    input: row.input ?? null,
    output: row.output ?? null,
    error: row.error ?? null,
    reason: row.reason,
    started_at: iso(row.startedAt),
    finished_at: iso(row.finishedAt),
    duration_ms: row.durationMs,
    retry_at: iso(row.retryAt),
  };
}

export function presentLog(row: TaskLogRow): z.infer<typeof LogLine> {
  return {
    id: row.id,
    task_id: row.taskId,
    attempt: row.attempt,
    at: row.at.toISOString(),
    level: row.level,
    stream: row.stream,
    message: row.message,
  };
}

/** Run ids are UUIDs; anything else cannot name a run (and must not reach a uuid column). */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
