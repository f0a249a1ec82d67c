import Redis from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openQueue } from '../../src/queue/open-queue.ts';
import type { QueueMessage } from '../../src/queue/queue.ts';
import { QueueUnavailableError, RedisQueue, redisClientOptions } from '../../src/queue/redis-queue.ts';
import { connectRedis, dropPrefix, REDIS_TEST_URL, testPrefix } from '../helpers/redis.ts';
import { waitFor } from '../helpers/wait-for.ts';

const FRESH = { blockMs: 50, staleMs: 60_000 };

describe('RedisQueue', () => {
  let redis: Redis;
  let prefix: string;
  const queues: RedisQueue[] = [];
  const open = (maxLen?: number) => {
    const q = RedisQueue.connect(REDIS_TEST_URL, prefix, maxLen);
    queues.push(q);
    return q;
  };

  beforeEach(async () => {
    redis = await connectRedis();
    prefix = testPrefix();
  });

  afterEach(async () => {
    for (const q of queues.splice(0)) await q.close();
    await dropPrefix(redis, prefix);
    redis.disconnect();
  });

  it('round-trips enqueue, claim and ack, delivering entries added before the group existed', async () => {
    const q = open();
    await q.enqueue('run-1');
    const [msg, ...rest] = await q.claim('a', 10, FRESH);
    expect(rest).toEqual([]);
    expect(msg?.runId).toBe('run-1');
    await q.ack(msg as QueueMessage);
    expect(await q.depth()).toBe(0);
    expect(await q.claim('a', 10, FRESH)).toEqual([]);
  });

  it('adds runs enqueued together with one command, in the order they came', async () => {
    const client = new Redis(REDIS_TEST_URL, redisClientOptions);
    const commands: string[] = [];
    const xadd = client.xadd.bind(client);
    const evaluate = client.eval.bind(client);
    client.xadd = ((...args: Parameters<typeof xadd>) => {
      commands.push('xadd');
      return xadd(...args);
    }) as typeof client.xadd;
    client.eval = ((...args: Parameters<typeof evaluate>) => {
      commands.push('eval');
      return evaluate(...args);
    }) as typeof client.eval;
    const q = new RedisQueue({ redis: client, prefix });
    try {
      const ids = Array.from({ length: 50 }, (_, i) => `run-${i}`);
      await Promise.all(ids.map((id) => q.enqueue(id)));
      expect(commands).toEqual(['eval']);
      expect((await q.claim('a', 100, FRESH)).map((m) => m.runId)).toEqual(ids);
      // One run alone is a plain XADD.
      await q.enqueue('run-alone');
      expect(commands).toEqual(['eval', 'xadd']);
      expect((await q.claim('a', 100, FRESH)).map((m) => m.runId)).toEqual(['run-alone']);
    } finally {
      await q.close();
      client.disconnect();
    }
  });

  it('tells when the oldest entry no consumer has received was added (entry ids are Redis time)', async () => {
    const q = open();
    expect(await q.oldestWaiting()).toBeUndefined(); // no stream yet
    const key = `${prefix}:runs`;
    // Entries added before the group exists are all waiting.
    await redis.xadd(key, '1700000000000-0', 'runId', 'old');
    expect(await q.oldestWaiting()).toEqual(new Date(1_700_000_000_000));
    await redis.xadd(key, '1700000005000-0', 'runId', 'younger');
    const [first] = await q.claim('a', 1, FRESH);
    expect(first?.runId).toBe('old');
    expect(await q.oldestWaiting()).toEqual(new Date(1_700_000_005_000));
    await q.claim('a', 1, FRESH);
    expect(await q.oldestWaiting()).toBeUndefined();
    // Acking does not change what waits; a new enqueue does.
    await q.ack(first as QueueMessage);
    expect(await q.oldestWaiting()).toBeUndefined();
    await q.enqueue('new');
    expect((await q.oldestWaiting())?.getTime()).toBeGreaterThan(1_700_000_005_000);
  });

  it('never gives the same fresh message to two consumers', async () => {
    const [qa, qb] = [open(), open()];
    for (let i = 0; i < 50; i++) await qa.enqueue(`run-${i}`);
    const drain = async (q: RedisQueue, consumer: string, seen: string[]) => {
      const deadline = Date.now() + 5000;
      while (Date.now() < deadline) {
        const got = await q.claim(consumer, 7, FRESH);
        if (got.length === 0) return;
        seen.push(...got.map((m) => m.runId));
      }
    };
    const a: string[] = [];
    const b: string[] = [];
    await Promise.all([drain(qa, 'a', a), drain(qb, 'b', b)]);
    const all = [...a, ...b];
    expect(all).toHaveLength(50);
    expect(new Set(all).size).toBe(50);
  });

  it('hands a silent consumer’s entry to another after staleMs', async () => {
    const q = open();
    await q.enqueue('run-1');
    const [mine] = await q.claim('a', 1, FRESH);
    expect(await q.claim('b', 1, { blockMs: 10, staleMs: 60_000 })).toEqual([]);
    const taken = await waitFor(async () => (await q.claim('b', 1, { blockMs: 20, staleMs: 200 }))[0]);
    expect(taken).toEqual(mine);
  });

  it('walks the whole pending list across repeated takeovers', async () => {
    const q = open();
    for (let i = 0; i < 10; i++) await q.enqueue(`run-${i}`);
    expect(await q.claim('a', 10, FRESH)).toHaveLength(10);
    const taken = new Set<string>();
    await waitFor(async () => {
      for (const m of await q.claim('b', 3, { blockMs: 10, staleMs: 100 })) taken.add(m.runId);
      return taken.size === 10;
    });
  });

  it('does not take over entries the owner keeps touching', async () => {
    const q = open();
    await q.enqueue('run-1');
    const mine = await q.claim('a', 1, FRESH);
    const toucher = setInterval(() => void q.touch('a', mine), 40);
    try {
      const until = Date.now() + 700;
      while (Date.now() < until) expect(await q.claim('b', 1, { blockMs: 30, staleMs: 200 })).toEqual([]);
    } finally {
      clearInterval(toucher);
    }
    // Control: once the touching stops, the same claim does take it over.
    await waitFor(async () => (await q.claim('b', 1, { blockMs: 20, staleMs: 200 })).length === 1);
  });

  it('touch by the old owner does not steal back an entry taken over', async () => {
    const q = open();
    await q.enqueue('run-1');
    const mine = await q.claim('a', 1, FRESH);
    await waitFor(async () => (await q.claim('b', 1, { blockMs: 10, staleMs: 50 })).length === 1);
    await q.touch('a', mine);
    const pending = (await redis.xpending(q.key, 'workers', '-', '+', 10)) as [string, string][];
    expect(pending.map(([, consumer]) => consumer)).toEqual(['b']);
  });

  it('does not redeliver acked messages, and deletes them from the stream', async () => {
    const q = open();
    await q.enqueue('run-1');
    const [msg] = await q.claim('a', 1, FRESH);
    await q.ack(msg as QueueMessage);
    expect(await redis.xlen(q.key)).toBe(0);
    expect(await q.claim('b', 10, { blockMs: 10, staleMs: 0 })).toEqual([]);
  });

  it('skips pending entries that were trimmed away', async () => {
    const q = open();
    for (let i = 0; i < 5; i++) await q.enqueue(`run-${i}`);
    expect(await q.claim('a', 5, FRESH)).toHaveLength(5);
    await redis.xtrim(q.key, 'MAXLEN', 0);
    expect(await q.claim('b', 5, { blockMs: 10, staleMs: 0 })).toEqual([]);
    await q.enqueue('run-new');
    expect((await q.claim('b', 5, { blockMs: 10, staleMs: 0 })).map((m) => m.runId)).toEqual(['run-new']);
  });

  it('re-creates the group after the stream key is deleted (FLUSHALL on this prefix)', async () => {
    const q = open();
    await q.enqueue('run-1');
    expect(await q.claim('a', 1, FRESH)).toHaveLength(1);
    await redis.del(q.key);
    expect(await q.claim('a', 1, FRESH)).toEqual([]);
    await redis.del(q.key);
    await q.enqueue('run-2'); // XADD re-creates the stream without the group
    expect((await q.claim('a', 1, FRESH)).map((m) => m.runId)).toEqual(['run-2']);
    await q.touch('a', []);
    await redis.del(q.key);
    await q.touch('a', [{ id: '1-0', runId: 'x' }]); // NOGROUP: nothing to keep, no error
  });

  it('returns a blocking claim promptly when a message is enqueued meanwhile', async () => {
    const [consumerQ, producerQ] = [open(), open()];
    await consumerQ.claim('a', 1, FRESH); // creates the group
    const started = Date.now();
    const claiming = consumerQ.claim('a', 1, { blockMs: 5000, staleMs: 60_000 });
    await waitForBlocked(redis, prefix);
    await producerQ.enqueue('run-1');
    expect((await claiming).map((m) => m.runId)).toEqual(['run-1']);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('does not delay enqueue on the same instance while a claim blocks', async () => {
    const q = open();
    await q.claim('a', 1, FRESH);
    const claiming = q.claim('a', 1, { blockMs: 5000, staleMs: 60_000 });
    await waitForBlocked(redis, prefix);
    const started = Date.now();
    await q.enqueue('run-1');
    expect(Date.now() - started).toBeLessThan(500);
    expect((await claiming).map((m) => m.runId)).toEqual(['run-1']);
  });

  it('close wakes a blocked claim with no messages', async () => {
    const q = open();
    await q.claim('a', 1, FRESH);
    const claiming = q.claim('a', 1, { blockMs: 5000, staleMs: 60_000 });
    await waitForBlocked(redis, prefix);
    await q.close();
    expect(await claiming).toEqual([]);
  });

  it('keeps the stream length bounded with approximate trimming', async () => {
    const q = open(100);
    const pipeline = Array.from({ length: 1000 }, (_, i) => q.enqueue(`run-${i}`));
    await Promise.all(pipeline);
    const len = await redis.xlen(q.key);
    expect(len).toBeGreaterThanOrEqual(100);
    expect(len).toBeLessThanOrEqual(300);
  });

  it('reports depth as entries not yet acked (waiting plus in flight)', async () => {
    const q = open();
    expect(await q.depth()).toBe(0);
    for (let i = 0; i < 3; i++) await q.enqueue(`run-${i}`);
    expect(await q.depth()).toBe(3);
    const claimed = await q.claim('a', 2, FRESH);
    expect(await q.depth()).toBe(3);
    await q.ack(claimed[0] as QueueMessage);
    expect(await q.depth()).toBe(2);
  });

  it('close sends the enqueues still on their way first (callers need not wait for them)', async () => {
    const q = RedisQueue.connect(REDIS_TEST_URL, prefix);
    const ids = Array.from({ length: 20 }, (_, i) => `run-${i}`);
    const adding = ids.map((id) => q.enqueue(id));
    await q.close();
    await Promise.all(adding);
    const entries = await redis.xrange(`${prefix}:runs`, '-', '+');
    expect(entries.map(([, fields]) => fields[1])).toEqual(ids);
    await expect(q.enqueue('late')).rejects.toThrow(QueueUnavailableError);
  });

  it('openQueue picks Redis when a URL is set', async () => {
    const q = openQueue({ redisUrl: REDIS_TEST_URL, prefix });
    try {
      expect(q).toBeInstanceOf(RedisQueue);
      await q.enqueue('run-1');
      expect((await q.claim('a', 1, FRESH)).map((m) => m.runId)).toEqual(['run-1']);
    } finally {
      await q.close();
    }
  });
});

describe('RedisQueue with Redis unreachable', () => {
  it('waits instead of spinning, then fails with a clear error', async () => {
    const client = new Redis('redis://127.0.0.1:1', redisClientOptions);
    let reconnects = 0;
    client.on('reconnecting', () => reconnects++);
    client.on('error', () => {});
    const q = new RedisQueue({ redis: client, prefix: testPrefix() });
    const started = Date.now();
    let calls = 0;
    let last: unknown;
    try {
      // A careless caller retrying at once must still not spin: each claim takes >= 1s.
      while (Date.now() - started < 1500) {
        calls++;
        last = await q.claim('a', 1, { blockMs: 0, staleMs: 1000 }).catch((err: unknown) => err);
      }
      expect(calls).toBeLessThanOrEqual(2);
      expect(reconnects).toBeLessThanOrEqual(8);
      expect(last).toBeInstanceOf(QueueUnavailableError);
      expect((last as Error).message).toMatch(/Redis at 127\.0\.0\.1:1 is unreachable \(.*ECONNREFUSED/);
      await expect(q.enqueue('run-1')).rejects.toThrow(QueueUnavailableError);
    } finally {
      await q.close();
      client.disconnect();
    }
  });

  it('close ends a claim that is waiting out an outage', async () => {
    const q = RedisQueue.connect('redis://127.0.0.1:1', testPrefix());
    const claiming = q.claim('a', 1, { blockMs: 10_000, staleMs: 1000 });
    const started = Date.now();
    await new Promise((r) => setImmediate(r));
    await q.close();
    expect(await claiming).toEqual([]);
    expect(Date.now() - started).toBeLessThan(3000);
  });
});

/** Waits until this prefix's blocking connection sits in XREADGROUP. */
async function waitForBlocked(redis: Redis, prefix: string): Promise<void> {
  await waitFor(async () => {
    const list = (await redis.client('LIST')) as string;
    return list
      .split('\n')
      .some((l) => l.includes(`name=${prefix}:blocking`) && l.includes('cmd=xreadgroup'));
  });
}
