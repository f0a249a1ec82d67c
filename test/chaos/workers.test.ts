import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getRun } from '../../src/store/runs.ts';
import type { Workflow } from '../../src/workflow/types.ts';
import { cluster, loadPipeline, runStatuses, taskRows } from '../helpers/cluster.ts';
import { createTestStore } from '../helpers/db.ts';
import { waitFor } from '../helpers/wait-for.ts';

const TASKS = ['A', 'B', 'C', 'D', 'E'];
let ctx: Awaited<ReturnType<typeof createTestStore>>;
let workflow: Workflow;

beforeAll(async () => {
  ctx = await createTestStore();
  workflow = await loadPipeline();
});
afterAll(async () => {
  await ctx?.cleanup();
});

describe('worker processes on Postgres and Redis Streams', () => {
  it('runs 200 pipelines across 3 workers, each task exactly once', async () => {
    const c = cluster(ctx.database.url);
    try {
      for (let i = 0; i < 3; i++) c.startWorker(10);
      const ids: string[] = [];
      for (let i = 0; i < 200; i++) ids.push(await c.start(ctx.store, workflow, { counter: c.counter }));
      await waitFor(async () => (await runStatuses(ctx.store, ids)).every((r) => r.status === 'succeeded'), {
        timeoutMs: 90_000,
        intervalMs: 250,
        message: 'all 200 runs succeeded',
      });
      const rows = await taskRows(ctx.store, ids);
      expect(rows).toHaveLength(200 * 5);
      expect(rows.every((r) => r.status === 'succeeded' && r.attempt === 1)).toBe(true);
      const effects = c.sideEffects();
      expect(effects.size).toBe(1000);
      expect([...effects.values()].every((n) => n === 1)).toBe(true);
    } finally {
      await c.stop();
    }
  });

  it('finishes a run within 10s after its worker is killed with -9, without re-running succeeded tasks', async () => {
    const c = cluster(ctx.database.url, { leaseMs: 2000 });
    try {
      const first = c.startWorker(5);
      const id = await c.start(ctx.store, workflow, { counter: c.counter, pause: '1' });
      // Wait until A and B succeeded under the first worker, then kill it mid-run.
      await waitFor(
        async () => {
          const rows = await taskRows(ctx.store, [id]);
          return rows.filter((r) => r.status === 'succeeded').length >= 2;
        },
        { timeoutMs: 20_000 },
      );
      first.signal('SIGKILL');
      await first.done;
      const killedAt = Date.now();
      const succeededBefore = (await taskRows(ctx.store, [id]))
        .filter((r) => r.status === 'succeeded')
        .map((r) => r.taskId);
      c.startWorker(5);
      await waitFor(async () => (await getRun(ctx.store.db, id))?.status === 'succeeded', {
        timeoutMs: 30_000,
        message: 'run finished by another worker',
      });
      // Takeover (lease 2s) plus the remaining tasks (1s each) must fit inside 10s.
      expect(Date.now() - killedAt).toBeLessThan(10_000);
      const effects = c.sideEffects();
      for (const task of succeededBefore) expect(effects.get(`${id} ${task}`)).toBe(1);
      for (const task of TASKS) expect(effects.get(`${id} ${task}`)).toBeGreaterThanOrEqual(1);
      const run = await getRun(ctx.store.db, id);
      expect(run?.fence).toBe(2);
    } finally {
      await c.stop();
    }
  });

  it('rejects the late writes of a paused worker whose run was taken over', async () => {
    const c = cluster(ctx.database.url, { leaseMs: 1500 });
    try {
      const paused = c.startWorker(5);
      const id = await c.start(ctx.store, workflow, { counter: c.counter, pause: '2' });
      await waitFor(
        async () => (await taskRows(ctx.store, [id])).some((r) => r.taskId === 'A' && r.status === 'running'),
        {
          timeoutMs: 20_000,
        },
      );
      paused.signal('SIGSTOP');
      c.startWorker(5);
      // The new owner takes over after the lease expires and finishes the run.
      await waitFor(async () => (await getRun(ctx.store.db, id))?.status === 'succeeded', {
        timeoutMs: 60_000,
      });
      const finished = await getRun(ctx.store.db, id);
      const rowsBefore = JSON.stringify(await taskRows(ctx.store, [id]));
      paused.signal('SIGCONT');
      // The old worker wakes up, finds its lease gone and gives up; nothing it writes lands.
      await waitFor(() => /taken over|fenced|new owner/i.test(paused.stderr()), { timeoutMs: 20_000 });
      expect(JSON.stringify(await taskRows(ctx.store, [id]))).toBe(rowsBefore);
      expect(await getRun(ctx.store.db, id)).toEqual(finished);
      expect(finished?.fence).toBe(2);
    } finally {
      await c.stop();
    }
  });
});

describe('worker shutdown', () => {
  it('SIGTERM lets a short run finish, and hands a long one back to another worker', async () => {
    const c = cluster(ctx.database.url, { leaseMs: 2000 });
    try {
      const first = c.startWorker(5);
      const slow = await c.start(ctx.store, workflow, { counter: c.counter, pause: '3' });
      await waitFor(
        async () =>
          (await taskRows(ctx.store, [slow])).some((r) => r.taskId === 'A' && r.status === 'succeeded'),
        {
          timeoutMs: 20_000,
        },
      );
      const quick = await c.start(ctx.store, workflow, { counter: c.counter, pause: '0.2' });
      await waitFor(async () => (await runStatuses(ctx.store, [quick]))[0]?.status === 'running', {
        timeoutMs: 20_000,
      });
      first.signal('SIGTERM'); // grace is 2s (cluster env): quick fits, slow does not
      const exited = await first.done;
      expect(exited.code).toBe(0);
      expect((await getRun(ctx.store.db, quick))?.status).toBe('succeeded');
      const handedBack = await getRun(ctx.store.db, slow);
      expect(handedBack).toMatchObject({ status: 'queued', leaseOwner: null });
      c.startWorker(5);
      await waitFor(async () => (await getRun(ctx.store.db, slow))?.status === 'succeeded', {
        timeoutMs: 60_000,
      });
      // A succeeded before the hand-back and was not run again.
      expect(c.sideEffects().get(`${slow} A`)).toBe(1);
    } finally {
      await c.stop();
    }
  });

  it('a second SIGINT exits at once, leaving the run to be taken over', async () => {
    const c = cluster(ctx.database.url, { leaseMs: 2000 });
    try {
      const w = c.startWorker(5);
      const id = await c.start(ctx.store, workflow, { counter: c.counter, pause: '5' });
      await waitFor(async () => (await runStatuses(ctx.store, [id]))[0]?.status === 'running', {
        timeoutMs: 20_000,
      });
      w.signal('SIGINT');
      await waitFor(() => w.stderr().includes('SIGINT: stopping'), { timeoutMs: 5000 });
      const second = Date.now();
      w.signal('SIGINT');
      const exited = await w.done;
      expect(exited.code).toBe(130);
      expect(Date.now() - second).toBeLessThan(1000);
      c.startWorker(5);
      await waitFor(async () => (await getRun(ctx.store.db, id))?.status === 'succeeded', {
        timeoutMs: 60_000,
      });
    } finally {
      await c.stop();
    }
  });
});
