export interface BatcherOptions {
  /** Most items one call of `run` carries. */
  maxBatch: number;
  /** Calls of `run` in flight at once; items arriving meanwhile wait and go out together. */
  concurrency: number;
}

interface Pending<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit: a call goes out at once when a slot is free; calls made while every slot is busy
 * are carried by the next `run` together. Light load keeps its latency, heavy load pays one
 * statement (one round trip, one commit) per batch instead of one per call.
 * `run` returns one result per item, in order; if it throws, every item of that batch fails.
 */
export function batcher<I, O>(
  run: (items: I[]) => Promise<O[]>,
  options: BatcherOptions,
): (item: I) => Promise<O> {
  const waiting: Pending<I, O>[] = [];
  let inFlight = 0;
  let scheduled = false;

  const dispatch = () => {
    scheduled = false;
    while (inFlight < options.concurrency && waiting.length > 0) {
      const batch = waiting.splice(0, options.maxBatch);
      inFlight += 1;
      void send(batch);
    }
  };

  const send = async (batch: Pending<I, O>[]) => {
    try {
      const results = await run(batch.map((p) => p.item));
      if (results.length !== batch.length) {
        throw new Error(`batch of ${batch.length} got ${results.length} results`);
      }
      for (const [i, p] of batch.entries()) p.resolve(results[i] as O);
    } catch (err) {
      for (const p of batch) p.reject(err);
    } finally {
      inFlight -= 1;
      dispatch();
    }
  };

  return (item: I) =>
    new Promise<O>((resolve, reject) => {
      waiting.push({ item, resolve, reject });
      // Dispatch after the I/O callbacks of this turn of the event loop: results that arrived on
      // several sockets at once (tasks of different runs finishing together) share the statement.
      // A microtask went out with the first of them (half the batch size, twice the statements).
      if (!scheduled && inFlight < options.concurrency) {
        scheduled = true;
        setImmediate(dispatch);
      }
    });
}
