import { and, asc, eq, gt, sql } from 'drizzle-orm';
import type { TaskLogEvent, TaskStatus, TaskStatusEvent } from '../engine/events.ts';
import type { TaskResult } from '../engine/types.ts';
import { BatonError, type SerializedError } from '../errors.ts';
import type { Db } from './db.ts';
import { FencedError, withFence } from './fence.ts';
import { capError, capJson, cleanText } from './json-cap.ts';
import type { Lease } from './runs.ts';
import { runs, type TaskLogRow, type TaskRunRow, taskLogs, taskRuns } from './schema.ts';

export { FencedError } from './fence.ts';

export interface StoreLimits {
  /** Inputs, outputs and error details whose JSON is larger are stored as a truncation marker. */
  outputLimitBytes: number;
}

/** Rows per INSERT when a log batch is very large (Postgres allows 65535 parameters a statement). */
const LOG_CHUNK = 5000;

function checkRun(lease: Lease, runId: string): void {
  if (runId !== lease.runId) {
    throw new BatonError('internal', `event for run ${runId} written under the lease of run ${lease.runId}`);
  }
}

const toDate = (iso: string | undefined) => (iso === undefined ? null : new Date(iso));
const toMs = (ms: number | undefined) => (ms === undefined ? null : Math.round(ms));

/**
 * Checkpoints one task status change under the lease: `running` starts the attempt's row, a final
 * status settles it (or creates it: attempt 0 for tasks settled without starting). `pending` is not stored.
 * A `running` event for an attempt that already has a row (a resume that reuses attempt numbers) starts it over.
 */
export async function recordTaskEvent(
  db: Db,
  lease: Lease,
  event: TaskStatusEvent,
  limits: StoreLimits,
): Promise<void> {
  if (event.status === 'pending') return;
  checkRun(lease, event.runId);
  const running = event.status === 'running';
  const json = (value: unknown) => (value === undefined || value === null ? null : JSON.stringify(value));
  const input = json(capJson(event.input, limits.outputLimitBytes));
  const output = running ? null : json(capJson(event.output, limits.outputLimitBytes));
  const error = running ? null : json(capError(event.error, limits.outputLimitBytes));
  const reason = running || event.reason === undefined ? null : cleanText(event.reason);
  const startedAt = running ? new Date(event.startedAt ?? event.at) : toDate(event.startedAt);
  const finishedAt = running ? null : new Date(event.at);
  const durationMs = running ? null : (toMs(event.durationMs) ?? null);
  const retryAt = running ? null : (toDate(event.retryAt) ?? null);
  const ts = (d: Date | null | undefined) => (d ? d.toISOString() : null);
  // One statement: the CTE takes the run row FOR SHARE and checks the lease, so a takeover's UPDATE
  // waits for this write and every write after the takeover inserts nothing (→ FencedError).
  // `running` starts the attempt's row over; a final status settles it, keeping what it lacks.
  const result = await db.execute(sql`
    with lease as (
      select 1 from ${runs}
      where ${runs.id} = ${lease.runId} and ${runs.fence} = ${lease.fence} and ${runs.leaseOwner} = ${lease.owner}
      for share
    )
    insert into ${taskRuns} (run_id, task_id, attempt, action, status, input, output, error, reason,
                             started_at, finished_at, duration_ms, retry_at)
    select ${lease.runId}::uuid, ${event.taskId}, ${event.attempt}, ${event.action}, ${event.status},
           ${input}::jsonb, ${output}::jsonb, ${error}::jsonb, ${reason},
           ${ts(startedAt)}::timestamptz, ${ts(finishedAt)}::timestamptz, ${durationMs}::integer, ${ts(retryAt)}::timestamptz
    from lease
    on conflict (run_id, task_id, attempt) do update set
      action = excluded.action,
      status = excluded.status,
      input = ${running ? sql`excluded.input` : sql`coalesce(excluded.input, ${taskRuns.input})`},
      output = excluded.output,
      error = excluded.error,
      reason = excluded.reason,
      started_at = ${running ? sql`excluded.started_at` : sql`coalesce(excluded.started_at, ${taskRuns.startedAt})`},
      finished_at = excluded.finished_at,
      duration_ms = ${running ? sql`null` : sql`coalesce(excluded.duration_ms, ${taskRuns.durationMs})`},
      retry_at = excluded.retry_at
    returning 1`);
  const rows = Array.isArray(result) ? result : ((result as { rows?: unknown[] }).rows ?? []);
  if (rows.length === 0) {
    const [current] = await db
      .select({ fence: runs.fence, leaseOwner: runs.leaseOwner })
      .from(runs)
      .where(eq(runs.id, lease.runId));
    throw new FencedError(lease, current);
  }
}

/** Stores a batch of log lines under the lease, in one INSERT (chunked only for huge batches). */
export async function recordLogs(db: Db, lease: Lease, events: readonly TaskLogEvent[]): Promise<void> {
  if (events.length === 0) return;
  const rows = events.map((e) => {
    checkRun(lease, e.runId);
    return {
      runId: lease.runId,
      taskId: e.taskId,
      attempt: e.attempt,
      at: new Date(e.at),
      level: e.level,
      stream: e.stream ?? null,
      message: cleanText(e.message),
    };
  });
  await withFence(db, lease, async (tx) => {
    for (let i = 0; i < rows.length; i += LOG_CHUNK) {
      await tx.insert(taskLogs).values(rows.slice(i, i + LOG_CHUNK));
    }
  });
}

export interface Checkpoint {
  /** Tasks that resume must not run again, with the result downstream templates see. */
  completed: Record<string, TaskResult>;
  /** Per task that has rows: the highest attempt number and how many attempts failed. */
  attempts: Record<string, { last: number; failures: number }>;
}

const FAILED: ReadonlySet<string> = new Set(['failed', 'timed_out']);

/**
 * What a resumed run starts from. Per task the latest attempt (highest number) decides: succeeded or
 * skipped, or failed/timed_out with no retry scheduled (a final failure), is completed. Everything else
 * runs again: a `running` row (its worker died), a failure awaiting retry, and `cancelled` — a run is
 * only resumed after it was handed back or taken over, so its cancellations were the worker stopping,
 * not the user's cancel (a user's cancel finishes the run, which is never resumed).
 * A failure is an attempt that ended failed/timed_out, or that failed and was then cancelled while
 * waiting to retry (cancelled, carrying a non-cancellation error); a row left `running` is not one.
 */
export async function loadCheckpoint(db: Db, runId: string): Promise<Checkpoint> {
  const rows = await db
    .select()
    .from(taskRuns)
    .where(eq(taskRuns.runId, runId))
    .orderBy(asc(taskRuns.taskId), asc(taskRuns.attempt));
  const latest = new Map<string, TaskRunRow>();
  const attempts: Checkpoint['attempts'] = {};
  for (const row of rows) {
    latest.set(row.taskId, row);
    const entry = attempts[row.taskId] ?? { last: 0, failures: 0 };
    entry.last = Math.max(entry.last, row.attempt);
    if (isFailure(row)) entry.failures += 1;
    attempts[row.taskId] = entry;
  }
  const completed: Record<string, TaskResult> = {};
  for (const [taskId, row] of latest) {
    const done =
      row.status === 'succeeded' || row.status === 'skipped' || (FAILED.has(row.status) && !row.retryAt);
    if (done) completed[taskId] = toResult(row);
  }
  return { completed, attempts };
}

function isFailure(row: TaskRunRow): boolean {
  if (FAILED.has(row.status)) return true;
  const code = (row.error as SerializedError | null)?.code;
  return row.status === 'cancelled' && code !== undefined && code !== 'cancelled';
}

function toResult(row: TaskRunRow): TaskResult {
  const result: TaskResult = { status: row.status as TaskStatus, attempts: row.attempt };
  if (row.output !== null) result.output = row.output;
  if (row.error !== null) result.error = row.error as SerializedError;
  if (row.reason !== null) result.reason = row.reason;
  if (row.startedAt) result.startedAt = row.startedAt.toISOString();
  if (row.durationMs !== null) result.durationMs = row.durationMs;
  return result;
}

/** Every attempt row of a run, in the order they were first written. */
export function listTaskRuns(db: Db, runId: string): Promise<TaskRunRow[]> {
  return db.select().from(taskRuns).where(eq(taskRuns.runId, runId)).orderBy(asc(taskRuns.id));
}

/** Log lines of a run in the order written; page with `afterId` (the last id seen). */
export function listLogs(
  db: Db,
  runId: string,
  options: { taskId?: string; afterId?: number; limit?: number } = {},
): Promise<TaskLogRow[]> {
  const where = [eq(taskLogs.runId, runId)];
  if (options.taskId !== undefined) where.push(eq(taskLogs.taskId, options.taskId));
  if (options.afterId !== undefined) where.push(gt(taskLogs.id, options.afterId));
  return db
    .select()
    .from(taskLogs)
    .where(and(...where))
    .orderBy(asc(taskLogs.id))
    .limit(options.limit ?? 1000);
}
