import type { Queue } from '../queue/queue.ts';
import type { Db } from '../store/db.ts';
import { markEnqueued, staleRuns } from '../store/runs.ts';

const SKEW_MARGIN_MS = 1000;

export interface ReconcilerOptions {
  db: Db;
  queue: Queue;
  intervalMs: number;
  /** A run enqueued less than this long ago is left alone (its message may still be on the way). */
  graceMs: number;
  onError?: (err: unknown) => void;
  onRequeue?: (runIds: string[]) => void;
}

/**
 * Re-enqueues runs that Postgres holds as queued or running without a live lease. It is what
 * makes a lost Redis (or a crashed enqueue) harmless: Postgres alone decides what must run.
 */
export function startReconciler(options: ReconcilerOptions): {
  stop(): Promise<void>;
  tick(): Promise<number>;
} {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  let current: Promise<unknown> = Promise.resolve();

  const tick = async (): Promise<number> => {
    let before = Date.now() - options.graceMs;
    // Under a backlog, runs enqueued after the oldest message still in line are in line too: only
    // older ones can have lost theirs. (A margin covers clock skew between Redis and Postgres.)
    const waiting = await options.queue.oldestWaiting().catch(() => undefined);
    if (waiting) before = Math.min(before, waiting.getTime() - SKEW_MARGIN_MS);
    const ids = await staleRuns(options.db, { enqueuedBefore: new Date(before), limit: 500 });
    for (const id of ids) {
      await options.queue.enqueue(id);
      await markEnqueued(options.db, id);
    }
    if (ids.length > 0) options.onRequeue?.(ids);
    return ids.length;
  };

  const loop = () => {
    if (stopped) return;
    current = tick()
      .catch((err) => options.onError?.(err))
      .finally(() => {
        if (!stopped) timer = setTimeout(loop, options.intervalMs);
      });
  };
  loop();

  return {
    tick,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await current;
    },
  };
}
