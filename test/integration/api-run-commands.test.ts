import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/store/db.ts';
import { claimRun, requestCancel } from '../../src/store/runs.ts';
import { taskRuns } from '../../src/store/schema.ts';
import { type ApiContext, createApiContext, type Seed, seeder } from './api-context.ts';

let ctx: ApiContext;
let db: Db;
let seed: (s: Seed, on?: Db) => Promise<string>;
let versionId: string;

beforeAll(async () => {
  ctx = await createApiContext();
  db = ctx.store.db;
  ({ seed, versionId } = await seeder(db));
});
afterAll(async () => {
  await ctx?.cleanup();
});

describe('POST /api/runs/{id}/cancel', () => {
  it('cancels a queued run at once', async () => {
    const id = await seed({ workflow: 'cancel' });
    const { status, body } = await ctx.call('POST', `/api/runs/${id}/cancel`);
    expect(status).toBe(202);
    expect(body.run).toMatchObject({ id, status: 'cancelled', cancel_requested: true });
    expect(body.run.finished_at).toEqual(expect.any(String));
  });

  it('flags a running run for its worker', async () => {
    const id = await seed({ workflow: 'cancel' });
    await claimRun(db, id, 'worker-x', 60_000);
    const { status, body } = await ctx.call('POST', `/api/runs/${id}/cancel`);
    expect(status).toBe(202);
    expect(body.run).toMatchObject({ id, status: 'running', cancel_requested: true, finished_at: null });
    // Asking twice is fine while it runs.
    expect((await ctx.call('POST', `/api/runs/${id}/cancel`)).status).toBe(202);
    expect(await requestCancel(db, id)).toBe(true);
  });

  it('409s a finished run and 404s an unknown one', async () => {
    const id = await seed({ workflow: 'cancel', status: 'succeeded' });
    const done = await ctx.call('POST', `/api/runs/${id}/cancel`);
    expect(done.status).toBe(409);
    expect(done.body.error).toMatchObject({ code: 'conflict', details: { status: 'succeeded' } });
    const unknown = await ctx.call('POST', '/api/runs/01968a3e-7c1a-7cde-9f00-2b3c4d5e6f70/cancel');
    expect(unknown.status).toBe(404);
  });
});

describe('retries without a worker', () => {
  it('retry 201s a new queued run pinned to the same version; 409 while the original is active', async () => {
    const active = await seed({ workflow: 'retry' });
    const busy = await ctx.call('POST', `/api/runs/${active}/retry`);
    expect(busy.status).toBe(409);
    expect(busy.body.error.code).toBe('conflict');

    const failed = await seed({ workflow: 'retry', status: 'failed', triggerType: 'webhook' });
    const depth = await ctx.queue.depth();
    const { status, body } = await ctx.call('POST', `/api/runs/${failed}/retry`);
    expect(status).toBe(201);
    expect(body.run).toMatchObject({
      workflow: 'retry',
      status: 'queued',
      version_id: versionId,
      trigger_type: 'retry',
      trigger: { type: 'webhook', inputs: {} },
      parent_run_id: failed,
    });
    expect(body.url).toBe(`/api/runs/${body.run.id}`);
    expect(await ctx.queue.depth()).toBe(depth + 1);
  });

  it('retry-from-failed 409s succeeded and active runs, 404s unknown ones', async () => {
    const ok = await seed({ workflow: 'retry', status: 'succeeded' });
    const okRes = await ctx.call('POST', `/api/runs/${ok}/retry-from-failed`);
    expect(okRes.status).toBe(409);
    expect(okRes.body.error.message).toContain('succeeded');
    const running = await seed({ workflow: 'retry', status: 'running' });
    expect((await ctx.call('POST', `/api/runs/${running}/retry-from-failed`)).status).toBe(409);
    expect((await ctx.call('POST', '/api/runs/nope/retry-from-failed')).status).toBe(404);
    expect((await ctx.call('POST', '/api/runs/nope/retry')).status).toBe(404);
  });

  it('retry-from-failed copies the latest succeeded attempt of each task before it is queued', async () => {
    const failed = await seed({ workflow: 'retry', status: 'failed' });
    const startedAt = new Date('2024-05-01T10:00:00Z');
    await db.insert(taskRuns).values([
      {
        runId: failed,
        taskId: 'a',
        attempt: 1,
        action: 'test.step',
        status: 'failed',
        error: { code: 'action', message: 'x' },
      },
      {
        runId: failed,
        taskId: 'a',
        attempt: 2,
        action: 'test.step',
        status: 'succeeded',
        input: { label: 'a' },
        output: { n: 1 },
        startedAt,
        durationMs: 7,
      },
      {
        runId: failed,
        taskId: 'b',
        attempt: 1,
        action: 'test.step',
        status: 'failed',
        error: { code: 'action', message: 'y' },
      },
      {
        runId: failed,
        taskId: 'c',
        attempt: 0,
        action: 'test.step',
        status: 'skipped',
        reason: 'upstream failed',
      },
    ]);
    const { status, body } = await ctx.call('POST', `/api/runs/${failed}/retry-from-failed`);
    expect(status).toBe(201);
    expect(body.reused_tasks).toEqual(['a']);
    expect(body.run).toMatchObject({ parent_run_id: failed, version_id: versionId, status: 'queued' });
    const copied = await db.select().from(taskRuns).where(eq(taskRuns.runId, body.run.id));
    expect(copied).toEqual([
      expect.objectContaining({
        taskId: 'a',
        attempt: 2,
        status: 'succeeded',
        input: { label: 'a' },
        output: { n: 1 },
        startedAt,
        durationMs: 7,
        reason: `reused from run ${failed}`,
      }),
    ]);
  });
});
