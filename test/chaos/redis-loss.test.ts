import Redis from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReconciler } from '../../src/worker/reconciler.ts';
import type { Workflow } from '../../src/workflow/types.ts';
import { cluster, loadPipeline, runStatuses } from '../helpers/cluster.ts';
import { createTestStore } from '../helpers/db.ts';
import { REDIS_TEST_URL } from '../helpers/redis.ts';
import { waitFor } from '../helpers/wait-for.ts';

let ctx: Awaited<ReturnType<typeof createTestStore>>;
let workflow: Workflow;

beforeAll(async () => {
  ctx = await createTestStore();
  workflow = await loadPipeline();
});
afterAll(async () => {
  await ctx?.cleanup();
});

describe('Redis loses everything', () => {
  it('FLUSHALL while 100 runs are queued or running: all 100 finish', async () => {
    const c = cluster(ctx.database.url, { leaseMs: 2000 });
    const reconciler = startReconciler({ db: ctx.store.db, queue: c.queue, intervalMs: 500, graceMs: 4000 });
    const redis = new Redis(REDIS_TEST_URL);
    try {
      c.startWorker(10);
      c.startWorker(10);
      const ids: string[] = [];
      for (let i = 0; i < 100; i++)
        ids.push(await c.start(ctx.store, workflow, { counter: c.counter, pause: '0.2' }));
      // Some done, some running, most still queued: then Redis forgets it all.
      await waitFor(async () => (await runStatuses(ctx.store, ids)).some((r) => r.status === 'succeeded'), {
        timeoutMs: 30_000,
      });
      const before = await runStatuses(ctx.store, ids);
      expect(before.filter((r) => r.status === 'queued').length).toBeGreaterThan(0);
      await redis.flushall();
      await waitFor(async () => (await runStatuses(ctx.store, ids)).every((r) => r.status === 'succeeded'), {
        timeoutMs: 110_000,
        intervalMs: 250,
        message: 'all 100 runs succeeded after FLUSHALL',
      });
      const effects = c.sideEffects();
      for (const id of ids) expect(effects.get(`${id} E`)).toBeGreaterThanOrEqual(1);
    } finally {
      await reconciler.stop();
      redis.disconnect();
      await c.stop();
    }
  });
});
