import type { SerializedError } from '../errors.ts';
import type { ActionEnvironment, AnyAction, ConnectionAccess } from '../plugins/define-action.ts';
import type { Workflow } from '../workflow/types.ts';
import type { EventSink, RunStatus, TaskStatus } from './events.ts';

export type TriggerType = 'manual' | 'api' | 'cli' | 'webhook' | 'schedule' | 'poll' | 'retry';

/** What started a run; templates see it as `trigger`. */
export interface TriggerData {
  type: TriggerType;
  inputs?: Record<string, unknown>;
  body?: unknown;
  headers?: Record<string, string>;
  query?: Record<string, string>;
  /** Schedules: the time the run was scheduled for (not when it started), and the entry's id. */
  scheduled_at?: string;
  schedule?: string;
  /** Polls: the new item this run is for. */
  item?: unknown;
  /** Set on runs of times missed while no scheduler ran, started late by `catchup`. */
  catchup?: boolean;
  /** Set on runs a backfill started. */
  backfill?: boolean;
}

export interface TaskResult {
  status: TaskStatus;
  output?: unknown;
  error?: SerializedError;
  /** Attempts made; 0 when the task never started. */
  attempts: number;
  reason?: string;
  startedAt?: string;
  durationMs?: number;
}

export interface RunResult {
  status: RunStatus;
  tasks: Record<string, TaskResult>;
  error?: SerializedError;
  durationMs: number;
}

export interface ExecuteOptions {
  workflow: Workflow;
  actions: ReadonlyMap<string, AnyAction>;
  runId: string;
  trigger: TriggerData;
  /** Every secret the run may use; actions see only what they declare, templates see `secrets.*`. */
  secrets: Readonly<Record<string, string>>;
  events: EventSink;
  env: ActionEnvironment;
  /** OAuth2 connections; absent where there is no database (`baton run` without DATABASE_URL). */
  connections?: ConnectionAccess;
  /** Abort to cancel the run. */
  signal?: AbortSignal;
  /** The run's own attempt number (a resumed run keeps its id). */
  runAttempt?: number;
  /** Tasks already finished (resume or retry-from-failed): they are not run again. */
  completed?: Readonly<Record<string, TaskResult>>;
  /**
   * On resume: per task, the last attempt number already used and how many attempts failed.
   * Numbering continues after `last`; only `failures` count against the retry budget
   * (an attempt cut short by a crashed worker is not the task's fault).
   */
  priorAttempts?: Readonly<Record<string, { last: number; failures: number }>>;
  random?: () => number;
}
