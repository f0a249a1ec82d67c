import { and, asc, eq, gt, type SQL, sql } from 'drizzle-orm';
import type { TaskLogEvent, TaskStatus, TaskStatusEvent } from '../engine/events.ts';
import type { TaskResult } from '../engine/types.ts';
import { BatonError, type SerializedError } from '../errors.ts';
import { batcher } from '../util/batcher.ts';
import { type Db, hotDb, rowsOf } from './db.ts';
import { FencedError, withFence } from './fence.ts';
import { capError, capJson, cleanText } from './json-cap.ts';
import type { Lease } from './runs.ts';
import { runs, type TaskLogRow, type TaskRunRow, taskLogs, taskRuns } from './schema.ts';
import { renderedOnce } from './statements.ts';

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
  const row = taskRow(lease, event, limits);
  // One statement: the CTE takes the run row FOR SHARE and checks the lease, so a takeover's UPDATE
  // waits for this write and every write after the takeover inserts nothing (→ FencedError).
  const written = await writeTaskRows(db, [row]);
  if (written.size === 0) throw await fencedError(db, lease);
}

/**
 * recordTaskEvent, group-committed across the runs of a process: task results arriving while a
 * write is in flight go out together in the next statement, each still checked against its own
 * lease. A write Postgres refuses is retried alone, so it fails only its own caller.
 */
export async function recordTaskEventBatched(
  db: Db,
  lease: Lease,
  event: TaskStatusEvent,
  limits: StoreLimits,
): Promise<void> {
  if (event.status === 'pending') return;
  checkRun(lease, event.runId);
  let write = taskBatchers.get(db);
  if (!write) {
    write = batcher((rows: TaskRowInput[]) => writeTaskBatch(db, rows), { maxBatch: 200, concurrency: 2 });
    taskBatchers.set(db, write);
  }
  const result = await write(taskRow(lease, event, limits));
  if (result === 'fenced') throw await fencedError(db, lease);
  if (result !== 'written') throw result.error;
}

/** One task_runs row as the batch statement reads it (absent keys are NULL). */
export interface TaskRowInput {
  run_id: string;
  fence: number;
  owner: string;
  task_id: string;
  attempt: number;
  action: string;
  status: string;
  input?: unknown;
  output?: unknown;
  error?: unknown;
  reason?: string;
  started_at?: string;
  finished_at?: string;
  duration_ms?: number;
  retry_at?: string;
}

type TaskWriteResult = 'written' | 'fenced' | { error: unknown };

const taskBatchers = new WeakMap<Db, (row: TaskRowInput) => Promise<TaskWriteResult>>();

function taskRow(lease: Lease, event: TaskStatusEvent, limits: StoreLimits): TaskRowInput {
  const running = event.status === 'running';
  const row: TaskRowInput = {
    run_id: lease.runId,
    fence: lease.fence,
    owner: lease.owner,
    task_id: event.taskId,
    attempt: event.attempt,
    action: event.action,
    status: event.status,
  };
  const set = <K extends keyof TaskRowInput>(key: K, value: TaskRowInput[K] | null | undefined) => {
    if (value !== undefined && value !== null) row[key] = value;
  };
  set('input', capJson(event.input, limits.outputLimitBytes));
  if (running) {
    set('started_at', event.startedAt ?? event.at);
    return row;
  }
  set('output', capJson(event.output, limits.outputLimitBytes));
  set('error', capError(event.error, limits.outputLimitBytes));
  if (event.reason !== undefined) set('reason', cleanText(event.reason));
  // The executor's timestamps are ISO strings already; Postgres parses them.
  set('started_at', event.startedAt);
  set('finished_at', event.at);
  set('duration_ms', toMs(event.durationMs));
  set('retry_at', event.retryAt);
  return row;
}

async function writeTaskBatch(db: Db, rows: TaskRowInput[]): Promise<TaskWriteResult[]> {
  let written: Set<string>;
  try {
    written = await writeTaskRows(db, rows);
  } catch (err) {
    if (rows.length === 1) return [{ error: err }];
    // One bad row (or two writes of the same attempt) must not fail the others: write each alone.
    return Promise.all(rows.map(async (row) => (await writeTaskBatch(db, [row]))[0] as TaskWriteResult));
  }
  return rows.map((row) =>
    written.has(rowKey(row.run_id, row.task_id, row.attempt)) ? 'written' : 'fenced',
  );
}

const rowKey = (runId: string, taskId: string, attempt: number) => `${runId}\u0000${taskId}\u0000${attempt}`;

/**
 * Upserts task rows whose run is still held under the row's lease, in one statement; returns the
 * keys written. The CTE locks each run row FOR SHARE, so a takeover's UPDATE waits for this write
 * and every write after a takeover inserts nothing. `running` starts the attempt's row over; a
 * final status settles it, keeping what it lacks.
 */
async function writeTaskRows(db: Db, rows: TaskRowInput[]): Promise<Set<string>> {
  const result = await hotDb(db).execute(taskRowsStatement(rows));
  const out = rowsOf<{ run_id: string; task_id: string; attempt: number }>(result);
  return new Set(out.map((r) => rowKey(r.run_id, r.task_id, Number(r.attempt))));
}

/** The upsert of writeTaskRows (exported so tests can check its plan). */
export function taskRowsStatement(rows: TaskRowInput[]): SQL {
  return taskRowsSql(JSON.stringify(rows));
}

const taskRowsSql = renderedOnce(
  (json: string) => sql`
  with input as (
    select * from rows from (jsonb_to_recordset(${json}::jsonb) as (
      run_id uuid, fence integer, owner text, task_id text, attempt integer, action text, status text,
      input jsonb, output jsonb, error jsonb, reason text, started_at timestamptz,
      finished_at timestamptz, duration_ms integer, retry_at timestamptz)
    ) with ordinality as x(run_id, fence, owner, task_id, attempt, action, status, input, output, error,
                          reason, started_at, finished_at, duration_ms, retry_at, n)
  ),
  held as (
    select ${runs.id} as id, ${runs.fence} as fence, ${runs.leaseOwner} as owner from ${runs}
    where ${runs.id} = any(array(select run_id from input))
    for share
  )
  insert into ${taskRuns} (run_id, task_id, attempt, action, status, input, output, error, reason,
                           started_at, finished_at, duration_ms, retry_at)
  select i.run_id, i.task_id, i.attempt, i.action, i.status, i.input, i.output, i.error, i.reason,
         i.started_at, i.finished_at, i.duration_ms, i.retry_at
  from input i join held h on h.id = i.run_id and h.fence = i.fence and h.owner = i.owner
  order by i.n
  on conflict (run_id, task_id, attempt) do update set
    action = excluded.action,
    status = excluded.status,
    input = case when excluded.status = 'running' then excluded.input
                 else coalesce(excluded.input, ${taskRuns.input}) end,
    output = excluded.output,
    error = excluded.error,
    reason = excluded.reason,
    started_at = case when excluded.status = 'running' then excluded.started_at
                      else coalesce(excluded.started_at, ${taskRuns.startedAt}) end,
    finished_at = excluded.finished_at,
    duration_ms = case when excluded.status = 'running' then null
                       else coalesce(excluded.duration_ms, ${taskRuns.durationMs}) end,
    retry_at = excluded.retry_at
  returning run_id, task_id, attempt`,
);

async function fencedError(db: Db, lease: Lease): Promise<FencedError> {
  const [current] = await db
    .select({ fence: runs.fence, leaseOwner: runs.leaseOwner })
    .from(runs)
    .where(eq(runs.id, lease.runId));
  return new FencedError(lease, current);
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
