import type { EventSink, RunEvent, RunStatusEvent, TaskLogEvent, TaskStatusEvent } from '../engine/events.ts';
import type { Db } from './db.ts';
import { FencedError } from './fence.ts';
import { type DbRetryOptions, withDbRetry } from './retry.ts';
import { type FinalRunStatus, finishRunBatched, getRun, type Lease } from './runs.ts';
import { recordLogs, recordTaskEventBatched } from './task-runs.ts';

export interface StoreSinkOptions {
  /** Inputs, outputs and error details larger than this are stored as a truncation marker. */
  outputLimitBytes: number;
  /** Called once, when the first write is rejected because the lease was lost. */
  onFenced?: (err: FencedError) => void;
  /** Buffered log lines are written at least this often (default 250ms). */
  flushIntervalMs?: number;
  /** Retry of transient database errors (default: 100ms doubling to 2s, for up to 60s). */
  retry?: DbRetryOptions;
}

export type StoreSink = EventSink & {
  /** Writes buffered log lines now; rethrows a failure of an earlier background flush. */
  flush(): Promise<void>;
};

const FINAL_RUN: ReadonlySet<string> = new Set<FinalRunStatus>([
  'succeeded',
  'failed',
  'cancelled',
  'timed_out',
]);

/**
 * Persists a run's events under a lease: task status changes are checkpointed as they happen (the
 * executor awaits them), log lines are batched, the final run status finishes the run. A database
 * outage is waited out (retried with backoff); a lost lease (FencedError) is reported and never retried.
 */
export function storeSink(db: Db, lease: Lease, options: StoreSinkOptions): StoreSink {
  const interval = options.flushIntervalMs ?? 250;
  const limits = { outputLimitBytes: options.outputLimitBytes };
  let buffer: TaskLogEvent[] = [];
  // `running` rows wait for the next flush: a task that ends before it is written as one row,
  // in one statement, instead of two (most tasks are fast). The final status is never delayed.
  const starting = new Map<string, TaskStatusEvent>();
  const keyOf = (e: TaskStatusEvent) => `${e.taskId}\u0000${e.attempt}`;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let logChain: Promise<void> = Promise.resolve();
  let background: unknown;
  let fenced: FencedError | undefined;

  const fence = (err: FencedError): FencedError => {
    if (!fenced) {
      fenced = err;
      options.onFenced?.(err);
    }
    return fenced;
  };

  const write = async <T>(operation: () => Promise<T>): Promise<T> => {
    if (fenced) throw fenced;
    try {
      return await withDbRetry(operation, options.retry);
    } catch (err) {
      if (err instanceof FencedError) throw fence(err);
      throw err;
    }
  };

  /**
   * Writes what is buffered after every earlier batch, so log rows keep their order. A task's
   * result flushes only the log lines: the `running` rows of other tasks still wait for the timer,
   * so a fast task whose sibling just ended is still written once, with its result.
   */
  const flushLogs = (options: { running: boolean } = { running: true }): Promise<void> => {
    const batch = buffer;
    buffer = [];
    let started: TaskStatusEvent[] = [];
    // The timer stays set while `running` rows wait, so a long task's row is not put off by others.
    if (options.running) {
      if (timer) clearTimeout(timer);
      timer = undefined;
      started = [...starting.values()];
      starting.clear();
    }
    // Nothing new to write: wait only for what is already on its way (log rows keep their order).
    if (started.length === 0 && batch.length === 0) return logChain;
    const done = logChain.then(async () => {
      for (const event of started) await write(() => recordTaskEventBatched(db, lease, event, limits));
      if (batch.length > 0) await write(() => recordLogs(db, lease, batch));
    });
    logChain = done.catch(() => {});
    return done;
  };

  const schedule = () => {
    if (timer || fenced) return;
    timer = setTimeout(() => {
      timer = undefined;
      flushLogs().catch((err) => {
        background ??= err;
      });
    }, interval);
    timer.unref?.();
  };

  const rethrowBackground = () => {
    if (fenced) throw fenced;
    if (background === undefined) return;
    const err = background;
    background = undefined;
    throw err;
  };

  const finish = async (event: RunStatusEvent) => {
    await flushLogs();
    const outcome = {
      status: event.status as FinalRunStatus,
      ...(event.error ? { error: event.error } : {}),
    };
    const ok = await write(() => finishRunBatched(db, lease, outcome));
    if (!ok) {
      const current = await getRun(db, lease.runId).catch(() => undefined);
      throw fence(new FencedError(lease, current));
    }
  };

  return {
    async emit(event: RunEvent) {
      switch (event.type) {
        case 'task.log':
          if (fenced) return;
          buffer.push(event);
          schedule();
          return;
        case 'task.status': {
          rethrowBackground();
          if (event.status === 'pending') return;
          if (event.status === 'running') {
            if (fenced) throw fenced;
            starting.set(keyOf(event), event);
            schedule();
            return;
          }
          const start = starting.get(keyOf(event));
          starting.delete(keyOf(event));
          await flushLogs({ running: false });
          const settled = start && event.input === undefined ? { ...event, input: start.input } : event;
          await write(() => recordTaskEventBatched(db, lease, settled, limits));
          return;
        }
        case 'run.status':
          rethrowBackground();
          if (FINAL_RUN.has(event.status)) await finish(event);
          return;
      }
    },
    async flush() {
      await flushLogs();
      rethrowBackground();
    },
  };
}
