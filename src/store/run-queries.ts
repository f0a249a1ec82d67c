import {
  and,
  asc,
  desc,
  eq,
  getTableColumns,
  gte,
  inArray,
  isNull,
  lt,
  or,
  type SQL,
  sql,
} from 'drizzle-orm';
import type { TriggerData, TriggerType } from '../engine/types.ts';
import { ValidationError } from '../errors.ts';
import type { Db } from './db.ts';
import { createRun } from './runs.ts';
import { type RunRow, runs, taskRuns, workflowVersions } from './schema.ts';

/** Queries behind the API's run listing, retries and cancellation of runs nobody has started yet. */

export interface RunFilters {
  workflow?: string;
  statuses?: readonly string[];
  triggerTypes?: readonly string[];
  /** Inclusive. */
  createdAfter?: Date;
  /** Exclusive. */
  createdBefore?: Date;
}

export interface RunPage {
  runs: RunRow[];
  /** Pass back as `cursor` for the next page; null when this page is the last. */
  nextCursor: string | null;
}

interface CursorKey {
  /** created_at with Postgres' full (microsecond) precision, as ISO text in UTC. */
  at: string;
  id: string;
}

const CURSOR_AT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function encodeCursor(key: CursorKey): string {
  return Buffer.from(JSON.stringify([key.at, key.id])).toString('base64url');
}

/** Throws ValidationError for anything encodeCursor did not make. */
export function decodeCursor(cursor: string): CursorKey {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2) {
      const [at, id] = value as unknown[];
      if (typeof at === 'string' && CURSOR_AT.test(at) && typeof id === 'string' && UUID.test(id)) {
        return { at, id };
      }
    }
  } catch {
    // reported below
  }
  throw new ValidationError('cursor is not valid; pass back the next_cursor of the previous page', {
    details: { issues: [{ path: 'cursor', message: 'not a cursor this API made', code: 'custom' }] },
  });
}

/**
 * Runs newest first (created_at, then id, both descending), filtered, one page at a time. The cursor
 * is the (created_at, id) of the page's last run at full precision, so pages never repeat or skip a
 * run, however many runs are created meanwhile (new runs sort before the first page).
 */
export async function listRuns(
  db: Db,
  filters: RunFilters,
  page: { limit: number; cursor?: string },
): Promise<RunPage> {
  const where: SQL[] = [];
  if (filters.workflow !== undefined) where.push(eq(runs.workflow, filters.workflow));
  if (filters.statuses?.length) where.push(inArray(runs.status, [...filters.statuses]));
  if (filters.triggerTypes?.length) where.push(inArray(runs.triggerType, [...filters.triggerTypes]));
  if (filters.createdAfter) where.push(gte(runs.createdAt, filters.createdAfter));
  if (filters.createdBefore) where.push(lt(runs.createdAt, filters.createdBefore));
  if (page.cursor !== undefined) {
    const key = decodeCursor(page.cursor);
    where.push(sql`(${runs.createdAt}, ${runs.id}) < (${key.at}::timestamptz, ${key.id}::uuid)`);
  }
  const rows = await db
    .select({
      ...getTableColumns(runs),
      cursorAt: sql<string>`to_char(${runs.createdAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`,
    })
    .from(runs)
    .where(where.length > 0 ? and(...where) : undefined)
    .orderBy(desc(runs.createdAt), desc(runs.id))
    .limit(page.limit + 1);
  const more = rows.length > page.limit;
  const pageRows = more ? rows.slice(0, page.limit) : rows;
  const last = pageRows.at(-1);
  return {
    runs: pageRows.map(({ cursorAt: _, ...run }) => run),
    nextCursor: more && last ? encodeCursor({ at: last.cursorAt, id: last.id }) : null,
  };
}

export interface RetryOptions {
  /**
   * Copy the original's succeeded tasks into the new run, so the worker's checkpoint treats them as
   * done and runs only the rest (retry-from-failed).
   */
  reuseSucceeded: boolean;
}

/**
 * Commits a new queued run of the original's pinned version with the same trigger data, pointing back
 * at it (`parent_run_id`), with trigger type `retry`. With `reuseSucceeded`, the latest attempt of each
 * task that succeeded is copied in the same transaction, before anyone can claim the run.
 * The caller enqueues it.
 */
export async function createRetryRun(
  db: Db,
  original: RunRow,
  options: RetryOptions,
): Promise<{ run: RunRow; reusedTasks: string[] }> {
  return db.transaction(async (tx) => {
    const { run } = await createRun(tx as unknown as Db, {
      workflow: original.workflow,
      versionId: original.versionId,
      triggerType: 'retry' satisfies TriggerType,
      trigger: original.trigger as TriggerData,
      parentRunId: original.id,
    });
    if (!options.reuseSucceeded) return { run, reusedTasks: [] };
    const latest = await tx
      .selectDistinctOn([taskRuns.taskId])
      .from(taskRuns)
      .where(eq(taskRuns.runId, original.id))
      .orderBy(asc(taskRuns.taskId), desc(taskRuns.attempt));
    const succeeded = latest.filter((row) => row.status === 'succeeded');
    if (succeeded.length > 0) {
      await tx.insert(taskRuns).values(
        succeeded.map(({ id: _, runId: __, ...row }) => ({
          ...row,
          runId: run.id,
          reason: `reused from run ${original.id}`,
        })),
      );
    }
    return { run, reusedTasks: succeeded.map((row) => row.taskId) };
  });
}

/**
 * Cancels a run that is queued and not held by any worker, at once (so no worker starts it);
 * undefined when it is running, held, or finished — then the caller flags it with requestCancel.
 */
export async function cancelQueuedRun(db: Db, runId: string): Promise<RunRow | undefined> {
  const [row] = await db
    .update(runs)
    .set({
      status: 'cancelled',
      cancelRequested: true,
      finishedAt: sql`now()`,
      error: { code: 'cancelled', message: 'run cancelled on request before it started' },
    })
    .where(
      and(
        eq(runs.id, runId),
        eq(runs.status, 'queued'),
        or(isNull(runs.leaseOwner), lt(runs.leaseExpiresAt, sql`now()`)),
      ),
    )
    .returning();
  return row;
}

/** Stored versions of a workflow, newest first (without their definitions and sources). */
export function listVersions(db: Db, name: string) {
  return db
    .select({
      id: workflowVersions.id,
      hash: workflowVersions.hash,
      createdAt: workflowVersions.createdAt,
      gitCommit: workflowVersions.gitCommit,
    })
    .from(workflowVersions)
    .where(eq(workflowVersions.name, name))
    .orderBy(desc(workflowVersions.createdAt), desc(workflowVersions.id));
}
