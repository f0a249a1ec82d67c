/**
 * The delivery channel for runs. Postgres is the source of truth: a message only says
 * "look at run X"; losing messages is harmless because the reconciler re-enqueues from Postgres.
 */
export interface QueueMessage {
  /** Queue-specific id (a Redis stream entry id, or a counter in-process). */
  id: string;
  runId: string;
}

export interface Queue {
  /** Adds a run to the queue. */
  enqueue(runId: string): Promise<void>;
  /**
   * Up to `count` messages for this consumer: first entries left idle by dead consumers for
   * longer than `staleMs` (taken over), then new ones, waiting up to `blockMs` for new ones.
   */
  claim(
    consumer: string,
    count: number,
    options: { blockMs: number; staleMs: number },
  ): Promise<QueueMessage[]>;
  /** Keeps claimed messages owned by this consumer so nobody takes them over while they run. */
  touch(consumer: string, messages: QueueMessage[]): Promise<void>;
  /** Done with a message (the run finished, or it belongs to someone else). */
  ack(message: QueueMessage): Promise<void>;
  /**
   * When the oldest message that no consumer has received yet was added; undefined when none wait.
   * Delivery is in order, so a run enqueued before this was delivered already (the reconciler's hint
   * that a queued run older than it lost its message, while a younger one may still be in line).
   */
  oldestWaiting(): Promise<Date | undefined>;
  /** Messages waiting or in flight, for metrics. */
  depth(): Promise<number>;
  close(): Promise<void>;
}
