import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MemoryQueue } from '../../src/queue/memory-queue.ts';
import type { Db } from '../../src/store/db.ts';
import { createRun } from '../../src/store/runs.ts';
import { runs, taskRuns } from '../../src/store/schema.ts';
import { upsertVersion } from '../../src/store/versions.ts';
import { Worker } from '../../src/worker/worker.ts';
import { createTestStore } from '../helpers/db.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { makeWorkflow } from '../helpers/workflow.ts';
import { testActions } from '../unit/engine/test-actions.ts';

let ctx: Awaited<ReturnType<typeof createTestStore>>;
let db: Db;

beforeAll(async () => {
  ctx = await createTestStore();
  db = ctx.store.db;
});
afterAll(async () => {
  await ctx?.cleanup();
});

it('claims a batch of messages at once and runs each run once, even when a run is queued twice', async () => {
  const { actions, spans } = testActions();
  const wf = makeWorkflow(
    { tasks: { a: { action: 'work' }, b: { action: 'work', depends_on: ['a'] } } },
    'claims',
  );
  const versionId = (await upsertVersion(db, wf, { text: '', path: 'claims.yaml' })).id;
  const queue = new MemoryQueue();
  const ids: string[] = [];
  for (let i = 0; i < 6; i++) {
    const { run } = await createRun(db, {
      workflow: 'claims',
      versionId,
      triggerType: 'manual',
      trigger: { type: 'manual' },
    });
    ids.push(run.id);
    await queue.enqueue(run.id);
  }
  // Duplicates, as a reconciler re-enqueue under a backlog produces: in the same claim batch.
  await queue.enqueue(ids[0] as string);
  await queue.enqueue(ids[1] as string);
  const worker = new Worker({
    db,
    queue,
    actions: () => actions,
    env: { filesDir: '/tmp', httpAllow: [], outputLimitBytes: 64 * 1024 },
    secrets: () => ({}),
    concurrency: 20,
    leaseMs: 5000,
    blockMs: 50,
  });
  worker.start();
  try {
    await waitFor(
      async () => {
        const rows = await db.select({ status: runs.status }).from(runs).where(eq(runs.workflow, 'claims'));
        return rows.length === 6 && rows.every((r) => r.status === 'succeeded');
      },
      { message: 'all six runs to succeed' },
    );
    await waitFor(async () => (await queue.depth()) === 0, { message: 'every message acked' });
    // Each run executed once: two tasks each, one attempt each, one claim each.
    expect(spans).toHaveLength(12);
    const attempts = await db.select().from(taskRuns);
    expect(attempts.filter((t) => ids.includes(t.runId))).toHaveLength(12);
    const fences = await db.select({ fence: runs.fence }).from(runs).where(eq(runs.workflow, 'claims'));
    expect(fences.every((r) => r.fence === 1)).toBe(true);
  } finally {
    await worker.stop(1000);
    await queue.close();
  }
});
