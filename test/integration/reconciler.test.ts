import { eq, sql } from 'drizzle-orm';
import type Redis from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RedisQueue } from '../../src/queue/redis-queue.ts';
import type { Db } from '../../src/store/db.ts';
import { createRun } from '../../src/store/runs.ts';
import { runs } from '../../src/store/schema.ts';
import { upsertVersion } from '../../src/store/versions.ts';
import { startReconciler } from '../../src/worker/reconciler.ts';
import { createTestStore } from '../helpers/db.ts';
import { connectRedis, dropPrefix, REDIS_TEST_URL, testPrefix } from '../helpers/redis.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { makeWorkflow } from '../helpers/workflow.ts';

let ctx: Awaited<ReturnType<typeof createTestStore>>;
let db: Db;
let redis: Redis;
let versionId: string;

beforeAll(async () => {
  ctx = await createTestStore();
  db = ctx.store.db;
  redis = await connectRedis();
  const wf = makeWorkflow({ tasks: { a: { action: 'work' } } }, 'reconcile-test');
  versionId = (await upsertVersion(db, wf, { text: '', path: 'reconcile-test.yaml' })).id;
});
afterAll(async () => {
  redis?.disconnect();
  await ctx?.cleanup();
});

/** A queued run that was (supposedly) enqueued `minutesAgo`. */
async function queuedRun(minutesAgo: number): Promise<string> {
  const { run } = await createRun(db, {
    workflow: 'reconcile-test',
    versionId,
    triggerType: 'manual',
    trigger: { type: 'manual' },
  });
  await db
    .update(runs)
    .set({ enqueuedAt: sql`now() - make_interval(mins => ${minutesAgo})` })
    .where(eq(runs.id, run.id));
  return run.id;
}

it('under a backlog re-enqueues only runs older than the oldest message still in line', async () => {
  const prefix = testPrefix();
  const queue = RedisQueue.connect(REDIS_TEST_URL, prefix);
  const requeued: string[][] = [];
  let reconciler: ReturnType<typeof startReconciler> | undefined;
  try {
    const lost = await queuedRun(10);
    const inLine = await queuedRun(5);
    const alsoLost = await queuedRun(3);
    // The backlog: inLine's message has waited in the stream since it was enqueued, 5 minutes ago.
    expect(await queue.claim('nobody', 1, { blockMs: 0, staleMs: 60_000 })).toEqual([]); // makes the group
    const fiveMinutesAgo = Date.now() - 5 * 60_000;
    await redis.xadd(`${prefix}:runs`, `${fiveMinutesAgo}-0`, 'runId', inLine);

    // The reconciler ticks once at start; later ticks are driven by the test.
    reconciler = startReconciler({
      db,
      queue,
      intervalMs: 3_600_000,
      graceMs: 10_000,
      onRequeue: (ids) => requeued.push(ids),
    });
    await waitFor(() => requeued.length === 1, { message: 'the first tick' });
    // Only the run older than the oldest waiting message is known to have lost its message.
    expect(requeued[0]).toEqual([lost]);

    // The backlog drains: inLine is delivered (and run), the lost run's new message too.
    for (const message of await queue.claim('w', 10, { blockMs: 0, staleMs: 60_000 }))
      await queue.ack(message);
    await db.update(runs).set({ status: 'succeeded' }).where(eq(runs.id, inLine));
    await db.update(runs).set({ status: 'succeeded' }).where(eq(runs.id, lost));
    await reconciler.tick();
    // Nothing waits any more: the younger run without a message is found too.
    expect(requeued.at(-1)).toEqual([alsoLost]);
  } finally {
    await reconciler?.stop();
    await queue.close();
    await dropPrefix(redis, prefix);
  }
});
