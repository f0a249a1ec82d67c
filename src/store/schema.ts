import { sql } from 'drizzle-orm';
import {
  bigserial,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** One row per distinct content of a workflow file; runs point at the exact one they started with. */
export const workflowVersions = pgTable(
  'workflow_versions',
  {
    id: uuid('id').primaryKey(),
    name: text('name').notNull(),
    hash: text('hash').notNull(),
    definition: jsonb('definition').notNull(),
    source: text('source').notNull(),
    sourcePath: text('source_path').notNull(),
    gitCommit: text('git_commit'),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [uniqueIndex('workflow_versions_name_hash').on(t.name, t.hash)],
);

export const runs = pgTable(
  'runs',
  {
    id: uuid('id').primaryKey(),
    workflow: text('workflow').notNull(),
    versionId: uuid('version_id')
      .notNull()
      .references(() => workflowVersions.id),
    /** queued | running | succeeded | failed | cancelled | timed_out */
    status: text('status').notNull().default('queued'),
    triggerType: text('trigger_type').notNull(),
    trigger: jsonb('trigger').notNull(),
    idempotencyKey: text('idempotency_key'),
    error: jsonb('error'),
    /** A retry or retry-from-failed points at the run it repeats. */
    parentRunId: uuid('parent_run_id'),
    createdAt: ts('created_at').notNull().defaultNow(),
    startedAt: ts('started_at'),
    finishedAt: ts('finished_at'),
    /** Last time this run was put on the queue; the reconciler uses it to avoid flooding. */
    enqueuedAt: ts('enqueued_at'),
    leaseOwner: text('lease_owner'),
    leaseExpiresAt: ts('lease_expires_at'),
    /** Bumped on every claim; a worker's writes carry the fence it claimed with. */
    fence: integer('fence').notNull().default(0),
    cancelRequested: boolean('cancel_requested').notNull().default(false),
  },
  (t) => [
    uniqueIndex('runs_workflow_idempotency_key')
      .on(t.workflow, t.idempotencyKey)
      .where(sql`${t.idempotencyKey} is not null`),
    index('runs_status_lease').on(t.status, t.leaseExpiresAt),
    index('runs_workflow_created').on(t.workflow, t.createdAt),
    index('runs_created').on(t.createdAt),
  ],
);

/** One row per attempt of a task (attempt 0: a task settled without starting: skipped, cancelled). */
export const taskRuns = pgTable(
  'task_runs',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    runId: uuid('run_id')
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    taskId: text('task_id').notNull(),
    attempt: integer('attempt').notNull(),
    action: text('action').notNull(),
    status: text('status').notNull(),
    input: jsonb('input'),
    output: jsonb('output'),
    error: jsonb('error'),
    reason: text('reason'),
    startedAt: ts('started_at'),
    finishedAt: ts('finished_at'),
    durationMs: integer('duration_ms'),
    /** Set on a failed attempt that will be retried. */
    retryAt: ts('retry_at'),
  },
  (t) => [uniqueIndex('task_runs_run_task_attempt').on(t.runId, t.taskId, t.attempt)],
);

export const taskLogs = pgTable(
  'task_logs',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    runId: uuid('run_id')
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    taskId: text('task_id').notNull(),
    attempt: integer('attempt').notNull(),
    at: ts('at').notNull(),
    level: text('level').notNull(),
    stream: text('stream'),
    message: text('message').notNull(),
  },
  (t) => [index('task_logs_run').on(t.runId, t.id)],
);

export type WorkflowVersionRow = typeof workflowVersions.$inferSelect;
export type RunRow = typeof runs.$inferSelect;
export type TaskRunRow = typeof taskRuns.$inferSelect;
export type TaskLogRow = typeof taskLogs.$inferSelect;
