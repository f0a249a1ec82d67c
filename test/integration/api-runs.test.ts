import { desc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/store/db.ts';
import { runs, taskLogs, taskRuns } from '../../src/store/schema.ts';
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

type Page = { runs: { id: string }[]; next_cursor: string | null };
const ids = (page: Page) => page.runs.map((r) => r.id);

describe('GET /api/runs', () => {
  it('pages newest first with an opaque cursor, stable while runs are created', async () => {
    const created: string[] = [];
    for (let i = 0; i < 3; i++) created.push(await seed({ workflow: 'pager' }));
    // Four runs in one transaction share created_at: the id breaks the tie.
    await db.transaction(async (tx) => {
      for (let i = 0; i < 4; i++) created.push(await seed({ workflow: 'pager' }, tx as unknown as Db));
    });
    const [[r1], [r2]] = await Promise.all([
      db
        .select({ at: runs.createdAt })
        .from(runs)
        .where(eq(runs.id, created[3] as string)),
      db
        .select({ at: runs.createdAt })
        .from(runs)
        .where(eq(runs.id, created[6] as string)),
    ]);
    expect(r1?.at.getTime()).toBe(r2?.at.getTime());

    const expected = (
      await db
        .select({ id: runs.id })
        .from(runs)
        .where(eq(runs.workflow, 'pager'))
        .orderBy(desc(runs.createdAt), desc(runs.id))
    ).map((r) => r.id);
    expect(expected).toHaveLength(7);

    const first = await ctx.call('GET', '/api/runs?workflow=pager&limit=3');
    expect(first.status).toBe(200);
    expect(ids(first.body)).toEqual(expected.slice(0, 3));
    expect(first.body.next_cursor).toEqual(expect.any(String));

    // New runs arrive between pages; they sort before page one and never shift later pages.
    await seed({ workflow: 'pager' });
    const second = await ctx.call('GET', `/api/runs?workflow=pager&limit=3&cursor=${first.body.next_cursor}`);
    expect(ids(second.body)).toEqual(expected.slice(3, 6));
    await seed({ workflow: 'pager' });
    const third = await ctx.call('GET', `/api/runs?workflow=pager&limit=3&cursor=${second.body.next_cursor}`);
    expect(ids(third.body)).toEqual(expected.slice(6));
    expect(third.body.next_cursor).toBeNull();

    const all = [...ids(first.body), ...ids(second.body), ...ids(third.body)];
    expect(new Set(all).size).toBe(7);
  });

  it('ends with next_cursor null when the last page is exactly full', async () => {
    for (let i = 0; i < 4; i++) await seed({ workflow: 'exact' });
    const first = await ctx.call('GET', '/api/runs?workflow=exact&limit=2');
    const second = await ctx.call('GET', `/api/runs?workflow=exact&limit=2&cursor=${first.body.next_cursor}`);
    expect(second.body.runs).toHaveLength(2);
    expect(second.body.next_cursor).toBeNull();
  });

  it('filters by workflow, status, trigger type and time range', async () => {
    const a = await seed({
      workflow: 'filt',
      status: 'failed',
      triggerType: 'webhook',
      createdAt: '2024-01-01T10:00:00Z',
    });
    const b = await seed({
      workflow: 'filt',
      status: 'succeeded',
      triggerType: 'api',
      createdAt: '2024-01-02T10:00:00Z',
    });
    const c = await seed({
      workflow: 'filt',
      status: 'timed_out',
      triggerType: 'schedule',
      createdAt: '2024-01-03T10:00:00Z',
    });
    await seed({
      workflow: 'other',
      status: 'failed',
      triggerType: 'webhook',
      createdAt: '2024-01-01T10:00:00Z',
    });
    const q = async (query: string) => ids((await ctx.call('GET', `/api/runs?workflow=filt&${query}`)).body);

    expect(await q('')).toEqual([c, b, a]);
    expect(await q('status=failed')).toEqual([a]);
    expect(await q('status=failed&status=timed_out')).toEqual([c, a]);
    expect(await q('trigger_type=webhook')).toEqual([a]);
    expect(await q('trigger_type=api&trigger_type=schedule')).toEqual([c, b]);
    expect(await q('created_after=2024-01-02T10:00:00Z')).toEqual([c, b]);
    expect(await q('created_before=2024-01-02T10:00:00Z')).toEqual([a]);
    expect(await q('created_after=2024-01-01T12:00:00%2B01:00&created_before=2024-01-03T00:00:00Z')).toEqual([
      b,
    ]);
    const everything = (await ctx.call('GET', '/api/runs?status=failed&created_before=2024-01-02T00:00:00Z'))
      .body;
    expect(everything.runs.map((r: { workflow: string }) => r.workflow).sort()).toEqual(['filt', 'other']);
  });

  it('422s bad filters, limits and cursors', async () => {
    for (const query of [
      'limit=0',
      'limit=201',
      'limit=ten',
      'status=done',
      'trigger_type=carrier-pigeon',
      'created_after=yesterday',
      'cursor=not-a-cursor',
      `cursor=${Buffer.from('["2024-01-01", "x"]').toString('base64url')}`,
    ]) {
      const { status, body } = await ctx.call('GET', `/api/runs?${query}`);
      expect(status, query).toBe(422);
      expect(body.error.code, query).toBe('validation');
    }
    const { body } = await ctx.call('GET', '/api/runs?status=done');
    expect(body.error.details.issues[0]).toMatchObject({
      path: 'status',
      message: expect.stringContaining('queued'),
    });
  });

  it('defaults to 50 runs a page and caps nothing silently', async () => {
    const { body } = await ctx.call('GET', '/api/runs');
    expect(body.runs.length).toBeLessThanOrEqual(50);
    expect(body.runs[0]).toMatchObject({ id: expect.any(String), url: `/api/runs/${body.runs[0].id}` });
  });
});

describe('GET /api/runs/{id} and /logs', () => {
  it('returns the run with every task attempt', async () => {
    const id = await seed({ workflow: 'detail', status: 'failed' });
    await db.insert(taskRuns).values([
      {
        runId: id,
        taskId: 'a',
        attempt: 1,
        action: 'test.step',
        status: 'failed',
        error: { code: 'action', message: 'x' },
      },
      {
        runId: id,
        taskId: 'a',
        attempt: 2,
        action: 'test.step',
        status: 'succeeded',
        output: { ok: true },
        durationMs: 5,
      },
    ]);
    const { status, body } = await ctx.call('GET', `/api/runs/${id}`);
    expect(status).toBe(200);
    expect(body.run).toMatchObject({ id, workflow: 'detail', status: 'failed', version_id: versionId });
    expect(body.tasks).toEqual([
      expect.objectContaining({
        task_id: 'a',
        attempt: 1,
        status: 'failed',
        error: { code: 'action', message: 'x' },
      }),
      expect.objectContaining({
        task_id: 'a',
        attempt: 2,
        status: 'succeeded',
        output: { ok: true },
        duration_ms: 5,
      }),
    ]);
  });

  it('pages log lines with after=, filters by task', async () => {
    const id = await seed({ workflow: 'logs' });
    const at = new Date();
    await db.insert(taskLogs).values(
      ['one', 'two', 'three', 'four'].map((message, i) => ({
        runId: id,
        taskId: i % 2 === 0 ? 'a' : 'b',
        attempt: 1,
        at,
        level: 'info',
        message,
      })),
    );
    const all = await ctx.call('GET', `/api/runs/${id}/logs`);
    expect(all.status).toBe(200);
    expect(all.body.logs.map((l: { message: string }) => l.message)).toEqual(['one', 'two', 'three', 'four']);
    const firstTwo = await ctx.call('GET', `/api/runs/${id}/logs?limit=2`);
    expect(firstTwo.body.logs.map((l: { message: string }) => l.message)).toEqual(['one', 'two']);
    const rest = await ctx.call('GET', `/api/runs/${id}/logs?after=${firstTwo.body.next_after}`);
    expect(rest.body.logs.map((l: { message: string }) => l.message)).toEqual(['three', 'four']);
    const none = await ctx.call('GET', `/api/runs/${id}/logs?after=${rest.body.next_after}`);
    expect(none.body).toEqual({ logs: [], next_after: rest.body.next_after });
    const onlyA = await ctx.call('GET', `/api/runs/${id}/logs?task=a`);
    expect(onlyA.body.logs.map((l: { message: string }) => l.message)).toEqual(['one', 'three']);
    expect(onlyA.body.logs[0]).toMatchObject({ task_id: 'a', attempt: 1, level: 'info', stream: null });
    const bad = await ctx.call('GET', `/api/runs/${id}/logs?after=-1`);
    expect(bad.status).toBe(422);
  });

  it('404s unknown and malformed run ids', async () => {
    for (const path of [
      '/api/runs/01968a3e-7c1a-7cde-9f00-2b3c4d5e6f70',
      '/api/runs/not-a-uuid',
      '/api/runs/not-a-uuid/logs',
      '/api/runs/01968a3e-7c1a-7cde-9f00-2b3c4d5e6f70/logs',
    ]) {
      const { status, body } = await ctx.call('GET', path);
      expect(status, path).toBe(404);
      expect(body.error.code).toBe('not_found');
    }
  });
});
