import type { SerializedError } from '../errors.ts';
import type { LogLevel } from '../plugins/define-action.ts';

export type RunStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'timed_out';
export type TaskStatus =
  | 'pending'
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'skipped'
  | 'cancelled'
  | 'timed_out';

export const FINAL_TASK_STATUSES: ReadonlySet<TaskStatus> = new Set([
  'succeeded',
  'failed',
  'skipped',
  'cancelled',
  'timed_out',
]);

export interface RunStatusEvent {
  type: 'run.status';
  runId: string;
  workflow: string;
  status: RunStatus;
  at: string;
  /** On `running`: the plan, level by level (`[['a'], ['b', 'd'], ['c'], ['e']]`). */
  plan?: string[][];
  error?: SerializedError;
  durationMs?: number;
}

export interface TaskStatusEvent {
  type: 'task.status';
  runId: string;
  taskId: string;
  action: string;
  status: TaskStatus;
  /** 0 for tasks that never started (pending, skipped, cancelled before start). */
  attempt: number;
  at: string;
  /** On `running`: the rendered input, secrets redacted. */
  input?: unknown;
  /** On `succeeded` (and `failed` with continue_on_error when the action returned). */
  output?: unknown;
  error?: SerializedError;
  /** Why a task was skipped or cancelled, in a sentence. */
  reason?: string;
  startedAt?: string;
  durationMs?: number;
  /** On a failed attempt that will be retried: when the next attempt starts. */
  retryAt?: string;
}

export interface TaskLogEvent {
  type: 'task.log';
  runId: string;
  taskId: string;
  attempt: number;
  at: string;
  level: LogLevel;
  stream?: 'stdout' | 'stderr';
  message: string;
}

export type RunEvent = RunStatusEvent | TaskStatusEvent | TaskLogEvent;

/**
 * Everything that records or shows a run listens here: the database, the CLI printer, pages.
 * The executor awaits `emit`, so a sink that persists can checkpoint before the run moves on.
 */
export interface EventSink {
  emit(event: RunEvent): void | Promise<void>;
}

export function fanout(...sinks: EventSink[]): EventSink {
  return { emit: (event) => emitFrom(sinks, 0, event) };
}

/** Each sink in order, the next after the previous settled; sinks that answer at once (metrics,
 * printers) cost no extra turn of the event loop. */
function emitFrom(sinks: readonly EventSink[], start: number, event: RunEvent): void | Promise<void> {
  for (let i = start; i < sinks.length; i++) {
    const result = (sinks[i] as EventSink).emit(event);
    if (result instanceof Promise) return result.then(() => emitFrom(sinks, i + 1, event));
  }
}

/** Collects events in memory; handy for tests and `baton run --json`. */
export class MemorySink implements EventSink {
  readonly events: RunEvent[] = [];
  emit(event: RunEvent): void {
    this.events.push(event);
  }
  tasks(taskId: string): TaskStatusEvent[] {
    return this.events.filter((e): e is TaskStatusEvent => e.type === 'task.status' && e.taskId === taskId);
  }
  logs(taskId?: string): TaskLogEvent[] {
    return this.events.filter(
      (e): e is TaskLogEvent => e.type === 'task.log' && (taskId === undefined || e.taskId === taskId),
    );
  }
}
