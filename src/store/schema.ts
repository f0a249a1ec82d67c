import { sql } from 'drizzle-orm';
import {
  bigserial,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
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
    // No index mentions a column a claim, a heartbeat or a task write changes (status, lease_*,
    // fence), so those updates are HOT: one new tuple on the same page, no index entries.
    index('runs_unfinished').on(t.createdAt, t.id).where(sql`${t.finishedAt} is null`),
    index('runs_workflow_created').on(t.workflow, t.createdAt),
    index('runs_created').on(t.createdAt),
  ],
);

/** One row per attempt of a task (attempt 0: a task settled without starting: skipped, cancelled). */
export const taskRuns = pgTable(
  'task_runs',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    // No foreign key: every write is fenced by the run's lease, which proves the run exists; the
    // per-row key check cost a lookup and a row lock on the run for each task write.
    runId: uuid('run_id').notNull(),
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
    // No foreign key: every write is fenced by the run's lease, which proves the run exists; the
    // per-row key check cost a lookup and a row lock on the run for each task write.
    runId: uuid('run_id').notNull(),
    taskId: text('task_id').notNull(),
    attempt: integer('attempt').notNull(),
    at: ts('at').notNull(),
    level: text('level').notNull(),
    stream: text('stream'),
    message: text('message').notNull(),
  },
  (t) => [index('task_logs_run').on(t.runId, t.id)],
);

/** Per schedule entry: the latest scheduled time the schedulers have dealt with (fired, skipped or missed). */
export const scheduleCursors = pgTable(
  'schedule_cursors',
  {
    workflow: text('workflow').notNull(),
    entry: text('entry').notNull(),
    lastAt: ts('last_at').notNull(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.workflow, t.entry] })],
);

/** Scheduled times of `overlap: queue` entries waiting for the entry's previous run to end. */
export const scheduleBacklog = pgTable(
  'schedule_backlog',
  {
    workflow: text('workflow').notNull(),
    entry: text('entry').notNull(),
    scheduledAt: ts('scheduled_at').notNull(),
    /** Missed during downtime and kept by `catchup`: its run says `trigger.catchup: true`. */
    catchup: boolean('catchup').notNull().default(false),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.workflow, t.entry, t.scheduledAt] })],
);

/** A row means the workflow's schedules are paused (set from the API, not the file). */
export const schedulePauses = pgTable('schedule_pauses', {
  workflow: text('workflow').primaryKey(),
  pausedAt: ts('paused_at').notNull().defaultNow(),
});

/** One poller per workflow: who holds its lease (database clock), and how its polls went. */
export const pollers = pgTable('pollers', {
  workflow: text('workflow').primaryKey(),
  leaseOwner: text('lease_owner'),
  leaseExpiresAt: ts('lease_expires_at'),
  /** False until the first poll recorded what already existed. */
  primed: boolean('primed').notNull().default(false),
  nextPollAt: ts('next_poll_at'),
  lastPolledAt: ts('last_polled_at'),
  lastSuccessAt: ts('last_success_at'),
  failures: integer('failures').notNull().default(0),
  lastError: text('last_error'),
  /** Runs the last successful poll started. */
  lastNewItems: integer('last_new_items').notNull().default(0),
});

/** Item keys a workflow's poller has seen; an item whose key is here never fires again. */
export const pollSeen = pgTable(
  'poll_seen',
  {
    workflow: text('workflow').notNull(),
    key: text('key').notNull(),
    seenAt: ts('seen_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.workflow, t.key] })],
);

/**
 * The secret store's data key, wrapped by BATON_MASTER_KEY (one row, id 'data'). Rotating the
 * master key rewrites only this row; `master_key_id` is a fingerprint that names the wrapping key.
 */
export const vaultKeys = pgTable('vault_keys', {
  id: text('id').primaryKey(),
  wrapped: text('wrapped').notNull(),
  masterKeyId: text('master_key_id').notNull(),
  createdAt: ts('created_at').notNull().defaultNow(),
  rotatedAt: ts('rotated_at'),
});

/** Secrets sealed with the data key (AES-256-GCM, the name bound as associated data). */
export const secrets = pgTable('secrets', {
  name: text('name').primaryKey(),
  sealed: text('sealed').notNull(),
  createdAt: ts('created_at').notNull().defaultNow(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});

/**
 * OAuth2 connections: tokens sealed like secrets (the connection's name bound as associated data).
 * `generation` grows with every new token, so a refresh that waited on another sees it happened.
 */
export const connections = pgTable('connections', {
  name: text('name').primaryKey(),
  provider: text('provider').notNull(),
  account: text('account'),
  scopes: text('scopes').notNull().default(''),
  accessSealed: text('access_sealed').notNull(),
  refreshSealed: text('refresh_sealed'),
  expiresAt: ts('expires_at'),
  /** connected | needs_reconnect */
  status: text('status').notNull().default('connected'),
  lastError: text('last_error'),
  generation: integer('generation').notNull().default(1),
  createdAt: ts('created_at').notNull().defaultNow(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
  refreshedAt: ts('refreshed_at'),
});

/**
 * Authorizations under way: single-use (deleted when the callback takes them), bound to the browser
 * that started them (hash of a cookie), with the PKCE verifier sealed and the exact redirect URI.
 */
export const oauthStates = pgTable('oauth_states', {
  stateHash: text('state_hash').primaryKey(),
  browserHash: text('browser_hash').notNull(),
  connection: text('connection').notNull(),
  provider: text('provider').notNull(),
  verifierSealed: text('verifier_sealed').notNull(),
  redirectUri: text('redirect_uri').notNull(),
  expiresAt: ts('expires_at').notNull(),
  createdAt: ts('created_at').notNull().defaultNow(),
});

export type WorkflowVersionRow = typeof workflowVersions.$inferSelect;
export type RunRow = typeof runs.$inferSelect;
export type TaskRunRow = typeof taskRuns.$inferSelect;
export type TaskLogRow = typeof taskLogs.$inferSelect;
export type PollerRow = typeof pollers.$inferSelect;
export type ConnectionRow = typeof connections.$inferSelect;
