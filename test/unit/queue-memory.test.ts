import { afterEach, describe, expect, it } from 'vitest';
import { MemoryQueue } from '../../src/queue/memory-queue.ts';
import { openQueue } from '../../src/queue/open-queue.ts';
import type { QueueMessage } from '../../src/queue/queue.ts';
import { waitFor } from '../helpers/wait-for.ts';

const FRESH = { blockMs: 0, staleMs: 60_000 };

describe('MemoryQueue', () => {
  let q: MemoryQueue;
  const make = () => {
    q = new MemoryQueue();
    return q;
  };
  afterEach(() => q?.close());

  it('tells when the oldest message nobody has received yet was added', async () => {
    make();
    expect(await q.oldestWaiting()).toBeUndefined();
    const before = Date.now();
    await q.enqueue('r1');
    await q.enqueue('r2');
    const first = await q.oldestWaiting();
    expect(first?.getTime()).toBeGreaterThanOrEqual(before);
    expect(first?.getTime()).toBeLessThanOrEqual(Date.now());
    await q.claim('a', 2, FRESH);
    // Delivered messages are no longer waiting, acked or not.
    expect(await q.oldestWaiting()).toBeUndefined();
  });

  it('delivers in FIFO order, up to count', async () => {
    make();
    for (const id of ['r1', 'r2', 'r3']) await q.enqueue(id);
    expect((await q.claim('a', 2, FRESH)).map((m) => m.runId)).toEqual(['r1', 'r2']);
    expect((await q.claim('b', 2, FRESH)).map((m) => m.runId)).toEqual(['r3']);
    expect(await q.claim('c', 2, FRESH)).toEqual([]);
  });

  it('never gives the same fresh message to two consumers', async () => {
    make();
    const seen: string[] = [];
    const drain = async (consumer: string) => {
      for (;;) {
        const got = await q.claim(consumer, 3, { blockMs: 50, staleMs: 60_000 });
        if (got.length === 0) return;
        seen.push(...got.map((m) => m.runId));
      }
    };
    const draining = Promise.all([drain('a'), drain('b')]);
    for (let i = 0; i < 50; i++) await q.enqueue(`r${i}`);
    await draining;
    expect(new Set(seen).size).toBe(50);
    expect(seen).toHaveLength(50);
  });

  it('wakes a blocked claim as soon as a message arrives', async () => {
    make();
    const started = Date.now();
    const claiming = q.claim('a', 5, { blockMs: 5000, staleMs: 60_000 });
    await q.enqueue('r1');
    expect((await claiming).map((m) => m.runId)).toEqual(['r1']);
    expect(Date.now() - started).toBeLessThan(500);
  });

  it('wakes waiters in arrival order, one message each', async () => {
    make();
    const first = q.claim('a', 1, { blockMs: 5000, staleMs: 60_000 });
    const second = q.claim('b', 1, { blockMs: 5000, staleMs: 60_000 });
    await q.enqueue('r1');
    await q.enqueue('r2');
    expect((await first).map((m) => m.runId)).toEqual(['r1']);
    expect((await second).map((m) => m.runId)).toEqual(['r2']);
  });

  it('returns [] when the block times out, and a later enqueue is not lost', async () => {
    make();
    expect(await q.claim('a', 1, { blockMs: 30, staleMs: 60_000 })).toEqual([]);
    await q.enqueue('r1');
    expect((await q.claim('b', 1, FRESH)).map((m) => m.runId)).toEqual(['r1']);
  });

  it('hands a silent consumer’s message to another after staleMs', async () => {
    make();
    await q.enqueue('r1');
    const [mine] = await q.claim('a', 1, FRESH);
    expect(await q.claim('b', 1, { blockMs: 0, staleMs: 60_000 })).toEqual([]);
    const taken = await waitFor(async () => (await q.claim('b', 1, { blockMs: 0, staleMs: 100 }))[0]);
    expect(taken).toEqual(mine);
  });

  it('takes over stale messages before fresh ones, without duplicates', async () => {
    make();
    await q.enqueue('old');
    await q.claim('a', 1, FRESH);
    await q.enqueue('new');
    const got = await waitFor(async () => {
      const m = await q.claim('b', 5, { blockMs: 0, staleMs: 0 });
      return m.length > 0 ? m : undefined;
    });
    expect(got.map((m) => m.runId)).toEqual(['old', 'new']);
  });

  it('does not take over messages the owner keeps touching', async () => {
    make();
    await q.enqueue('r1');
    const mine = await q.claim('a', 1, FRESH);
    const toucher = setInterval(() => void q.touch('a', mine), 20);
    try {
      const until = Date.now() + 400;
      while (Date.now() < until) expect(await q.claim('b', 1, { blockMs: 20, staleMs: 100 })).toEqual([]);
    } finally {
      clearInterval(toucher);
    }
    await waitFor(async () => (await q.claim('b', 1, { blockMs: 0, staleMs: 100 })).length === 1);
  });

  it('touch by the old owner does not keep a message taken over', async () => {
    make();
    await q.enqueue('r1');
    const mine = await q.claim('a', 1, FRESH);
    await waitFor(async () => (await q.claim('b', 1, { blockMs: 0, staleMs: 50 })).length === 1);
    await q.touch('a', mine);
    // b never touches, so c can take it over again after staleMs: a's touch did not count.
    await waitFor(async () => (await q.claim('c', 1, { blockMs: 0, staleMs: 50 })).length === 1);
  });

  it('does not redeliver acked messages', async () => {
    make();
    await q.enqueue('r1');
    const [msg] = await q.claim('a', 1, FRESH);
    await q.ack(msg as QueueMessage);
    expect(await q.claim('b', 1, { blockMs: 0, staleMs: 0 })).toEqual([]);
  });

  it('reports depth as waiting plus in flight', async () => {
    make();
    for (const id of ['r1', 'r2', 'r3']) await q.enqueue(id);
    const claimed = await q.claim('a', 2, FRESH);
    expect(await q.depth()).toBe(3);
    await q.ack(claimed[0] as QueueMessage);
    expect(await q.depth()).toBe(2);
  });

  it('close wakes blocked claims with [] and later claims return [] at once', async () => {
    make();
    const claiming = q.claim('a', 1, { blockMs: 10_000, staleMs: 60_000 });
    await q.close();
    expect(await claiming).toEqual([]);
    expect(await q.claim('a', 1, { blockMs: 10_000, staleMs: 60_000 })).toEqual([]);
    await expect(q.enqueue('r1')).rejects.toThrow(/closed/);
  });

  it('openQueue picks the in-process queue without a Redis URL', async () => {
    const opened = openQueue({ prefix: 'baton' });
    expect(opened).toBeInstanceOf(MemoryQueue);
    await opened.close();
  });
});
