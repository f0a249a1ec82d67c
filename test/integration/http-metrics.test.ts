import { eq } from 'drizzle-orm';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/metrics/metrics.ts';
import { MemoryQueue } from '../../src/queue/memory-queue.ts';
import type { Db } from '../../src/store/db.ts';
import { createRun } from '../../src/store/runs.ts';
import { runs } from '../../src/store/schema.ts';
import { upsertVersion } from '../../src/store/versions.ts';
import { createTestStore } from '../helpers/db.ts';
import { makeWorkflow } from '../helpers/workflow.ts';

let ctx: Awaited<ReturnType<typeof createTestStore>>;
let db: Db;

beforeAll(async () => {
  ctx = await createTestStore();
  db = ctx.store.db;
  const wf = makeWorkflow({ tasks: { a: { action: 'work' } } }, 'metrics-test');
  const versionId = (await upsertVersion(db, wf, { text: 'tasks: {}', path: 'metrics-test.yaml' })).id;
  const statuses = ['queued', 'queued', 'running', 'succeeded', 'succeeded', 'succeeded', 'failed'];
  for (const status of statuses) {
    const { run } = await createRun(db, {
      workflow: 'metrics-test',
      versionId,
      triggerType: 'manual',
      trigger: { type: 'manual', inputs: {} },
    });
    await db.update(runs).set({ status }).where(eq(runs.id, run.id));
  }
});
afterAll(async () => {
  await ctx?.cleanup();
});

const sample = (text: string, series: string) => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('/metrics against a real database', () => {
  it('counts runs in the database by status, with 0 for statuses that have none', async () => {
    const queue = new MemoryQueue();
    await queue.enqueue('r1');
    const app = new Hono();
    app.get('/metrics', createMetrics({ db, queue }).handler);
    const res = await app.request('/metrics');
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(sample(text, 'baton_runs_in_db{status="queued"}')).toBe(2);
    expect(sample(text, 'baton_runs_in_db{status="running"}')).toBe(1);
    expect(sample(text, 'baton_runs_in_db{status="succeeded"}')).toBe(3);
    expect(sample(text, 'baton_runs_in_db{status="failed"}')).toBe(1);
    expect(sample(text, 'baton_runs_in_db{status="cancelled"}')).toBe(0);
    expect(sample(text, 'baton_runs_in_db{status="timed_out"}')).toBe(0);
    expect(sample(text, 'baton_queue_depth')).toBe(1);
    await queue.close();
  });

  it('leaves the gauge out when the database fails, and still answers', async () => {
    const broken = {
      select: () => {
        throw new Error('connection refused');
      },
    } as unknown as Db;
    const metrics = createMetrics({ db: broken });
    const text = await metrics.text();
    expect(text).not.toContain('baton_runs_in_db{');
    expect(sample(text, 'baton_metrics_collect_errors_total{collector="runs_in_db"}')).toBe(1);
  });
});
