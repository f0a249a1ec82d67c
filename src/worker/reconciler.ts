import type { Queue } from '../queue/queue.ts';
import type { Db } from '../store/db.ts';
import { markEnqueued, staleRuns } from '../store/runs.ts';

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
    const ids = await staleRuns(options.db, {
      enqueuedBefore: new Date(Date.now() - options.graceMs),
      limit: 500,
    });
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
