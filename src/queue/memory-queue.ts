import type { Queue, QueueMessage } from './queue.ts';

interface InFlight {
  runId: string;
  consumer: string;
  touchedAt: number;
}

interface Waiter {
  consumer: string;
  count: number;
  resolve: (messages: QueueMessage[]) => void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * The in-process queue of the embedded mode (one process, no Redis), with the same semantics as
 * RedisQueue: FIFO delivery, per-consumer ownership, takeover of entries idle longer than staleMs,
 * touch to keep them. Nothing survives a restart; the reconciler re-enqueues from the database.
 */
export class MemoryQueue implements Queue {
  /** Map iteration order is insertion order: a FIFO with O(1) removal. */
  private readonly waiting = new Map<string, { runId: string; at: number }>();
  /** Delivered and not yet acked; insertion order is delivery order, so takeover is oldest first. */
  private readonly inFlight = new Map<string, InFlight>();
  private readonly waiters: Waiter[] = [];
  private nextId = 1;
  private closed = false;

  async enqueue(runId: string): Promise<void> {
    if (this.closed) throw new Error('queue is closed');
    this.waiting.set(String(this.nextId++), { runId, at: Date.now() });
    // Hand the new message straight to the longest-waiting claim.
    const waiter = this.waiters.shift();
    if (waiter) {
      clearTimeout(waiter.timer);
      waiter.resolve(this.takeFresh(waiter.consumer, waiter.count));
    }
  }

  async claim(
    consumer: string,
    count: number,
    { blockMs, staleMs }: { blockMs: number; staleMs: number },
  ): Promise<QueueMessage[]> {
    if (this.closed || count <= 0) return [];
    const out = this.takeOver(consumer, count, staleMs);
    out.push(...this.takeFresh(consumer, count - out.length));
    if (out.length > 0 || blockMs <= 0) return out;
    return new Promise((resolve) => {
      const waiter: Waiter = {
        consumer,
        count,
        resolve,
        timer: setTimeout(() => {
          this.removeWaiter(waiter);
          resolve([]);
        }, blockMs),
      };
      this.waiters.push(waiter);
    });
  }

  async touch(consumer: string, messages: QueueMessage[]): Promise<void> {
    const now = Date.now();
    for (const { id } of messages) {
      const entry = this.inFlight.get(id);
      // Only the current owner may refresh; a message taken over stays with its new owner.
      if (entry?.consumer === consumer) entry.touchedAt = now;
    }
  }

  async ack(message: QueueMessage): Promise<void> {
    this.inFlight.delete(message.id);
    this.waiting.delete(message.id);
  }

  async oldestWaiting(): Promise<Date | undefined> {
    const first = this.waiting.values().next();
    return first.done ? undefined : new Date(first.value.at);
  }

  /** Messages waiting plus in flight (delivered, not yet acked). */
  async depth(): Promise<number> {
    return this.waiting.size + this.inFlight.size;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const waiter of this.waiters.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.resolve([]);
    }
  }

  private takeOver(consumer: string, count: number, staleMs: number): QueueMessage[] {
    const now = Date.now();
    const stale: string[] = [];
    for (const [id, entry] of this.inFlight) {
      if (stale.length >= count) break;
      if (now - entry.touchedAt >= staleMs) stale.push(id);
    }
    // Collected first: re-inserting while iterating would visit the moved entries again.
    return stale.map((id) => {
      const runId = this.inFlight.get(id)?.runId ?? '';
      this.inFlight.delete(id);
      this.inFlight.set(id, { runId, consumer, touchedAt: now });
      return { id, runId };
    });
  }

  private takeFresh(consumer: string, count: number): QueueMessage[] {
    const out: QueueMessage[] = [];
    const now = Date.now();
    for (const [id, { runId }] of this.waiting) {
      if (out.length >= count) break;
      this.waiting.delete(id);
      this.inFlight.set(id, { runId, consumer, touchedAt: now });
      out.push({ id, runId });
    }
    return out;
  }

  private removeWaiter(waiter: Waiter): void {
    const at = this.waiters.indexOf(waiter);
    if (at >= 0) this.waiters.splice(at, 1);
  }
}
