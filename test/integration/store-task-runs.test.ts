import { eq, inArray, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TaskLogEvent, TaskStatusEvent } from '../../src/engine/events.ts';
import type { Db } from '../../src/store/db.ts';
import { withFence } from '../../src/store/fence.ts';
import {
  claimRun,
  createRun,
  finishRunBatched,
  finishStatement,
  type Lease,
  leaseOf,
  renewLeases,
  renewStatement,
  staleRuns,
  staleRunsQuery,
} from '../../src/store/runs.ts';
import { runs, taskRuns } from '../../src/store/schema.ts';
import {
  FencedError,
  listLogs,
  listTaskRuns,
  loadCheckpoint,
  recordLogs,
  recordTaskEvent,
  recordTaskEventBatched,
  taskRowsStatement,
} from '../../src/store/task-runs.ts';
import { upsertVersion } from '../../src/store/versions.ts';
import { createTestStore } from '../helpers/db.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { makeWorkflow } from '../helpers/workflow.ts';

let ctx: Awaited<ReturnType<typeof createTestStore>>;
let db: Db;
let versionId: string;
const limits = { outputLimitBytes: 64 * 1024 };

beforeAll(async () => {
  ctx = await createTestStore();
  db = ctx.store.db;
  const wf = makeWorkflow({ tasks: { a: { action: 'work' } } }, 'tasks-test');
  versionId = (await upsertVersion(db, wf, { text: '', path: 'tasks-test.yaml' })).id;
});
afterAll(async () => {
  await ctx?.cleanup();
});

async function leasedRun(owner = 'worker-a', leaseMs = 30_000): Promise<Lease> {
  const { run } = await createRun(db, {
    workflow: 'tasks-test',
    versionId,
    triggerType: 'manual',
    trigger: { type: 'manual' },
  });
  const claimed = await claimRun(db, run.id, owner, leaseMs);
  if (!claimed) throw new Error('claim failed');
  return leaseOf(claimed);
}

const at = (ms: number) => new Date(Date.UTC(2030, 0, 1, 0, 0, 0, ms)).toISOString();

function ev(lease: Lease, taskId: string, extra: Partial<TaskStatusEvent>): TaskStatusEvent {
  return {
    type: 'task.status',
    runId: lease.runId,
    taskId,
    action: 'work',
    status: 'running',
    attempt: 1,
    at: at(0),
    ...extra,
  };
}

describe('recordTaskEvent', () => {
  it('writes running then succeeded into one attempt row; pending is not stored', async () => {
    const lease = await leasedRun();
    await recordTaskEvent(db, lease, ev(lease, 'a', { status: 'pending', attempt: 0 }), limits);
    expect(await listTaskRuns(db, lease.runId)).toEqual([]);
    await recordTaskEvent(db, lease, ev(lease, 'a', { input: { ms: 5 }, at: at(0) }), limits);
    const [running] = await listTaskRuns(db, lease.runId);
    expect(running).toMatchObject({
      taskId: 'a',
      attempt: 1,
      status: 'running',
      input: { ms: 5 },
      output: null,
    });
    expect(running?.startedAt?.toISOString()).toBe(at(0));
    await recordTaskEvent(
      db,
      lease,
      ev(lease, 'a', { status: 'succeeded', output: { n: 1 }, at: at(40), startedAt: at(0), durationMs: 40 }),
      limits,
    );
    const rows = await listTaskRuns(db, lease.runId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      status: 'succeeded',
      input: { ms: 5 },
      output: { n: 1 },
      error: null,
      durationMs: 40,
      retryAt: null,
    });
    expect(rows[0]?.finishedAt?.toISOString()).toBe(at(40));
    expect(rows[0]?.startedAt?.toISOString()).toBe(at(0));
  });

  it('keeps one row per attempt, with retry_at on attempts that will be retried', async () => {
    const lease = await leasedRun();
    const error = { code: 'action' as const, message: 'boom' };
    await recordTaskEvent(db, lease, ev(lease, 'b', { attempt: 1 }), limits);
    await recordTaskEvent(
      db,
      lease,
      ev(lease, 'b', { status: 'failed', attempt: 1, error, at: at(10), durationMs: 10, retryAt: at(1010) }),
      limits,
    );
    await recordTaskEvent(db, lease, ev(lease, 'b', { attempt: 2, at: at(1010) }), limits);
    await recordTaskEvent(
      db,
      lease,
      ev(lease, 'b', { status: 'failed', attempt: 2, error, at: at(1020), durationMs: 10 }),
      limits,
    );
    const rows = await listTaskRuns(db, lease.runId);
    expect(rows.map((r) => [r.attempt, r.status, r.retryAt?.toISOString() ?? null])).toEqual([
      [1, 'failed', at(1010)],
      [2, 'failed', null],
    ]);
    expect(rows[0]?.error).toEqual(error);
  });

  it('stores tasks settled without starting as attempt 0', async () => {
    const lease = await leasedRun();
    await recordTaskEvent(
      db,
      lease,
      ev(lease, 'c', { status: 'skipped', attempt: 0, reason: 'if: false', at: at(5) }),
      limits,
    );
    const [row] = await listTaskRuns(db, lease.runId);
    expect(row).toMatchObject({ attempt: 0, status: 'skipped', reason: 'if: false', startedAt: null });
    expect(row?.finishedAt?.toISOString()).toBe(at(5));
  });

  it('replaces oversized input, output and error details with a truncation marker', async () => {
    const lease = await leasedRun();
    const small = { outputLimitBytes: 100 };
    const big = { text: 'x'.repeat(500) };
    await recordTaskEvent(db, lease, ev(lease, 'd', { input: big }), small);
    await recordTaskEvent(
      db,
      lease,
      ev(lease, 'd', {
        status: 'succeeded',
        output: { ...big, nul: 'a\u0000b' },
        error: { code: 'action', message: 'm', details: big },
      }),
      small,
    );
    const [row] = await listTaskRuns(db, lease.runId);
    const bytes = JSON.stringify(big).length;
    expect(row?.input).toEqual({ $truncated: true, bytes, preview: JSON.stringify(big).slice(0, 100) });
    expect(row?.output).toMatchObject({
      $truncated: true,
      bytes: bytes + JSON.stringify({ nul: 'a\u0000b' }).length - 1,
    });
    expect(row?.error).toHaveProperty('details');
    expect((row?.error as { details: unknown } | undefined)?.details).toMatchObject({
      $truncated: true,
      bytes,
    });
    // Small values pass through; NUL (which jsonb refuses) becomes U+FFFD.
    await recordTaskEvent(
      db,
      lease,
      ev(lease, 'e', { status: 'succeeded', output: { s: 'a\u0000b' } }),
      small,
    );
    const e = (await listTaskRuns(db, lease.runId)).find((r) => r.taskId === 'e');
    expect(e?.output).toEqual({ s: 'a\uFFFDb' });
  });
});

describe('fencing', () => {
  it('rejects writes from a worker whose lease was taken over; the new owner’s rows stand', async () => {
    const old = await leasedRun('worker-a', 50);
    await recordTaskEvent(db, old, ev(old, 'a', { input: { from: 'a' } }), limits);
    await waitFor(async () => (await claimRun(db, old.runId, 'worker-b', 30_000)) !== undefined);
    const current: Lease = { runId: old.runId, owner: 'worker-b', fence: old.fence + 1 };
    await recordTaskEvent(db, current, ev(current, 'a', { input: { from: 'b' } }), limits);
    await recordTaskEvent(
      db,
      current,
      ev(current, 'a', { status: 'succeeded', output: { by: 'b' }, at: at(20), durationMs: 20 }),
      limits,
    );
    const before = await listTaskRuns(db, old.runId);

    const write = recordTaskEvent(
      db,
      old,
      ev(old, 'a', { status: 'failed', error: { code: 'action', message: 'late' } }),
      limits,
    );
    await expect(write).rejects.toBeInstanceOf(FencedError);
    await expect(write).rejects.toThrow(`run ${old.runId}: write with fence 1`);
    await expect(write).rejects.toThrow('current fence 2, owner worker-b');
    await expect(write).rejects.toMatchObject({ code: 'conflict', heldFence: 1, currentFence: 2 });
    const log: TaskLogEvent = {
      type: 'task.log',
      runId: old.runId,
      taskId: 'a',
      attempt: 1,
      at: at(1),
      level: 'info',
      message: 'late line',
    };
    await expect(recordLogs(db, old, [log])).rejects.toBeInstanceOf(FencedError);

    expect(await listTaskRuns(db, old.runId)).toEqual(before);
    expect(before).toHaveLength(1);
    expect(before[0]).toMatchObject({ status: 'succeeded', input: { from: 'b' }, output: { by: 'b' } });
    expect(await listLogs(db, old.runId)).toEqual([]);
  });

  it('a takeover waits for an in-flight fenced write (FOR SHARE vs the claim UPDATE)', async () => {
    const old = await leasedRun('worker-a', 50);
    await waitFor(async () => {
      const [row] = await db
        .select({ expired: sql<boolean>`${runs.leaseExpiresAt} < now()` })
        .from(runs)
        .where(eq(runs.id, old.runId));
      return row?.expired;
    });
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let locked: () => void = () => {};
    const hasLock = new Promise<void>((r) => {
      locked = r;
    });
    const write = withFence(db, old, async (tx) => {
      locked();
      await gate;
      await tx
        .insert(taskRuns)
        .values({ runId: old.runId, taskId: 'slow', attempt: 1, action: 'work', status: 'running' });
    });
    await hasLock;
    let claimedAt = 0;
    const claim = claimRun(db, old.runId, 'worker-b', 30_000).then((row) => {
      claimedAt = Date.now();
      return row;
    });
    await new Promise((r) => setTimeout(r, 150));
    expect(claimedAt).toBe(0);
    const releasedAt = Date.now();
    release();
    await write;
    const row = await claim;
    expect(row?.fence).toBe(old.fence + 1);
    expect(claimedAt).toBeGreaterThanOrEqual(releasedAt);
    await expect(
      recordTaskEvent(db, old, ev(old, 'slow', { status: 'succeeded', output: 1 }), limits),
    ).rejects.toBeInstanceOf(FencedError);
  });
});

describe('loadCheckpoint', () => {
  it('completes what resume must not re-run and counts attempts and failures', async () => {
    const lease = await leasedRun();
    const fail = { code: 'action' as const, message: 'boom' };
    const cancelled = { code: 'cancelled' as const, message: 'worker shutting down' };
    const write = (taskId: string, extra: Partial<TaskStatusEvent>) =>
      recordTaskEvent(db, lease, ev(lease, taskId, extra), limits);
    // ok: succeeded on the first attempt
    await write('ok', { input: { x: 1 } });
    await write('ok', { status: 'succeeded', output: { v: 1 }, startedAt: at(0), durationMs: 7, at: at(7) });
    // crashed: failed once (retry scheduled), second attempt left running by a dead worker
    await write('crashed', { status: 'failed', error: fail, retryAt: at(100) });
    await write('crashed', { attempt: 2 });
    // skipped: attempt 0
    await write('skipped', { status: 'skipped', attempt: 0, reason: 'if: false' });
    // final: two failures, no retry left
    await write('final', { status: 'failed', error: fail, retryAt: at(100) });
    await write('final', { status: 'timed_out', attempt: 2, error: { code: 'timeout', message: 'slow' } });
    // stopped: cancelled mid-attempt by the worker stopping
    await write('stopped', { status: 'cancelled', error: cancelled });
    // waiting: failed, then cancelled while waiting for its retry
    await write('waiting', { status: 'failed', error: fail, retryAt: at(100) });
    await write('waiting', { status: 'cancelled', error: fail, reason: 'worker shutting down' });
    // never: cancelled before it started
    await write('never', { status: 'cancelled', attempt: 0, reason: 'run cancelled' });

    const { completed, attempts } = await loadCheckpoint(db, lease.runId);
    expect(Object.keys(completed).sort()).toEqual(['final', 'ok', 'skipped']);
    expect(completed.ok).toEqual({
      status: 'succeeded',
      attempts: 1,
      output: { v: 1 },
      startedAt: at(0),
      durationMs: 7,
    });
    expect(completed.skipped).toEqual({ status: 'skipped', attempts: 0, reason: 'if: false' });
    expect(completed.final).toMatchObject({ status: 'timed_out', attempts: 2, error: { code: 'timeout' } });
    expect(attempts).toEqual({
      ok: { last: 1, failures: 0 },
      crashed: { last: 2, failures: 1 },
      skipped: { last: 0, failures: 0 },
      final: { last: 2, failures: 2 },
      stopped: { last: 1, failures: 0 },
      waiting: { last: 1, failures: 1 },
      never: { last: 0, failures: 0 },
    });
    expect(await loadCheckpoint(db, '00000000-0000-7000-8000-000000000000')).toEqual({
      completed: {},
      attempts: {},
    });
  });

  it('a running event for an attempt that already has a row starts it over', async () => {
    const lease = await leasedRun();
    await recordTaskEvent(
      db,
      lease,
      ev(lease, 'r', { status: 'failed', error: { code: 'action', message: 'x' } }),
      limits,
    );
    await recordTaskEvent(db, lease, ev(lease, 'r', { input: { again: true }, at: at(500) }), limits);
    const [row] = await listTaskRuns(db, lease.runId);
    expect(row).toMatchObject({ status: 'running', input: { again: true }, error: null, finishedAt: null });
  });
});

describe('logs', () => {
  it('stores a batch in order and pages through it', async () => {
    const lease = await leasedRun();
    const line = (taskId: string, i: number, stream?: 'stdout' | 'stderr'): TaskLogEvent => ({
      type: 'task.log',
      runId: lease.runId,
      taskId,
      attempt: 1,
      at: at(i),
      level: i % 2 ? 'warn' : 'info',
      message: `${taskId} line ${i}`,
      ...(stream ? { stream } : {}),
    });
    await recordLogs(db, lease, [line('a', 0, 'stdout'), line('b', 1), line('a', 2, 'stderr'), line('b', 3)]);
    await recordLogs(db, lease, []);
    const all = await listLogs(db, lease.runId);
    expect(all.map((l) => l.message)).toEqual(['a line 0', 'b line 1', 'a line 2', 'b line 3']);
    expect(all[0]).toMatchObject({ stream: 'stdout', level: 'info', attempt: 1 });
    expect(all[0]?.at.toISOString()).toBe(at(0));
    expect(all[1]?.stream).toBeNull();
    expect((await listLogs(db, lease.runId, { taskId: 'a' })).map((l) => l.message)).toEqual([
      'a line 0',
      'a line 2',
    ]);
    const page = await listLogs(db, lease.runId, { afterId: all[1]?.id as number, limit: 1 });
    expect(page.map((l) => l.message)).toEqual(['a line 2']);
  });
});

describe('group-committed task writes and run finishes', () => {
  it('writes results of many runs in one statement, fencing each against its own lease', async () => {
    const leases = await Promise.all(Array.from({ length: 6 }, () => leasedRun()));
    const [taken] = leases;
    if (!taken) throw new Error('no lease');
    // Another worker takes one run over: its old owner's write in the same batch must be refused.
    await db
      .update(runs)
      .set({ leaseExpiresAt: sql`now() - interval '1 second'` })
      .where(eq(runs.id, taken.runId));
    await claimRun(db, taken.runId, 'worker-b', 30_000);

    const settled = await Promise.allSettled(
      leases.map((lease, i) =>
        recordTaskEventBatched(
          db,
          lease,
          ev(lease, 'a', { status: 'succeeded', output: { i }, at: at(5), startedAt: at(0), durationMs: 5 }),
          limits,
        ),
      ),
    );
    expect(settled[0]?.status).toBe('rejected');
    expect((settled[0] as PromiseRejectedResult).reason).toBeInstanceOf(FencedError);
    expect(settled.slice(1).every((s) => s.status === 'fulfilled')).toBe(true);
    expect(await listTaskRuns(db, taken.runId)).toEqual([]);
    for (const [i, lease] of leases.entries()) {
      if (i === 0) continue;
      const [row] = await listTaskRuns(db, lease.runId);
      expect(row).toMatchObject({ taskId: 'a', status: 'succeeded', output: { i }, durationMs: 5 });
    }
    // The same results, fired together, reached Postgres as one or two statements: rows written in one
    // statement share its transaction's id (xmin).
    const xmins = await db.execute<{ n: number }>(
      sql`select count(distinct xmin::text)::int as n from ${taskRuns} where ${taskRuns.runId} in ${sql.raw(
        `(${leases
          .slice(1)
          .map((l) => `'${l.runId}'`)
          .join(',')})`,
      )}`,
    );
    expect(Number((xmins as unknown as { n: number }[])[0]?.n)).toBeLessThanOrEqual(2);
  });

  it('a write Postgres refuses fails only its own caller', async () => {
    const [good, bad, good2] = await Promise.all([leasedRun(), leasedRun(), leasedRun()]);
    if (!good || !bad || !good2) throw new Error('no lease');
    const result = (lease: Lease, output: unknown, attempt = 1) =>
      recordTaskEventBatched(
        db,
        lease,
        ev(lease, 'a', { status: 'succeeded', output, attempt, at: at(1) }),
        limits,
      );
    const settled = await Promise.allSettled([
      result(good, { ok: 1 }),
      // An attempt number beyond Postgres's integer range: this row alone is refused.
      result(bad, { ok: 'never' }, 3_000_000_000),
      result(good2, { ok: 2 }),
    ]);
    const refused = (settled[1] as PromiseRejectedResult).reason as Error;
    expect(String(refused.cause ?? refused)).toMatch(/out of range/);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((await listTaskRuns(db, good.runId))[0]?.output).toEqual({ ok: 1 });
    expect(await listTaskRuns(db, bad.runId)).toEqual([]);
    expect((await listTaskRuns(db, good2.runId))[0]?.output).toEqual({ ok: 2 });
  });

  it('finishes many runs in one statement; a run taken over is not finished by its old owner', async () => {
    const leases = await Promise.all(Array.from({ length: 4 }, () => leasedRun()));
    const [taken] = leases;
    if (!taken) throw new Error('no lease');
    await db
      .update(runs)
      .set({ leaseExpiresAt: sql`now() - interval '1 second'` })
      .where(eq(runs.id, taken.runId));
    await claimRun(db, taken.runId, 'worker-b', 30_000);
    const results = await Promise.all(
      leases.map((lease, i) =>
        finishRunBatched(
          db,
          lease,
          i === 1 ? { status: 'failed', error: { code: 'x', message: 'boom' } } : { status: 'succeeded' },
        ),
      ),
    );
    expect(results).toEqual([false, true, true, true]);
    const rows = await db
      .select()
      .from(runs)
      .where(
        inArray(
          runs.id,
          leases.map((l) => l.runId),
        ),
      );
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(byId.get(taken.runId)).toMatchObject({ status: 'running', leaseOwner: 'worker-b' });
    expect(byId.get(leases[1]?.runId as string)).toMatchObject({
      status: 'failed',
      error: { code: 'x', message: 'boom' },
      leaseOwner: null,
    });
    for (const lease of leases.slice(2)) {
      expect(byId.get(lease.runId)).toMatchObject({ status: 'succeeded', error: null, leaseOwner: null });
      expect(byId.get(lease.runId)?.finishedAt).toBeInstanceOf(Date);
    }
    // Finishing again after a lost reply is harmless.
    expect(await finishRunBatched(db, leases[2] as Lease, { status: 'succeeded' })).toBe(true);
  });
});

describe('batch statements on a large runs table', () => {
  it('find their runs by primary key, never by scanning the table', async () => {
    // Enough finished runs that a sequential scan of runs would be the planner's worst choice.
    await db.execute(sql`
      insert into ${runs} (id, workflow, version_id, status, trigger_type, trigger, finished_at)
      select gen_random_uuid(), 'tasks-test', ${versionId}::uuid, 'succeeded', 'manual', '{}'::jsonb, now()
      from generate_series(1, 10000)`);
    await db.execute(sql`analyze ${runs}`);
    const lease = await leasedRun();
    const row = { run_id: lease.runId, fence: lease.fence, owner: lease.owner, task_id: 'a', attempt: 1 };
    const statements = {
      'task results': taskRowsStatement([{ ...row, action: 'work', status: 'succeeded' }]),
      'run finishes': finishStatement([{ ...row, status: 'succeeded' }]),
      heartbeat: renewStatement(lease.owner, [lease], 30_000),
    };
    for (const [what, statement] of Object.entries(statements)) {
      // EXPLAIN plans the statement exactly as sent, without running it.
      const result = await db.execute(sql`explain ${statement}`);
      const plan = (result as unknown as Record<string, string>[]).map((r) => Object.values(r)[0]).join('\n');
      expect(plan, `${what}:\n${plan}`).toMatch(/Index|Bitmap/);
      expect(plan, `${what}:\n${plan}`).not.toMatch(/Seq Scan on runs/);
    }
  });
});

describe('run row updates', () => {
  it('a claim and a heartbeat are HOT updates (no index entries); a finish is not', async () => {
    // This backend's own counts (not yet flushed to the shared statistics), so other test files
    // cannot disturb them; compared before and after, since earlier transactions may be in them.
    const counts = async (tx: Db) => {
      const result = await tx.execute(sql`
        select n_tup_upd::int as upd, n_tup_hot_upd::int as hot
        from pg_stat_xact_user_tables where relname = 'runs'`);
      const [row] = result as unknown as { upd: number; hot: number }[];
      return row ?? { upd: 0, hot: 0 };
    };
    const { run } = await createRun(db, {
      workflow: 'tasks-test',
      versionId,
      triggerType: 'manual',
      trigger: { type: 'manual' },
    });
    await db.transaction(async (tx) => {
      const t = tx as unknown as Db;
      const before = await counts(t);
      const delta = async () => {
        const now = await counts(t);
        return { upd: now.upd - before.upd, hot: now.hot - before.hot };
      };
      const claimed = await claimRun(t, run.id, 'worker-hot', 30_000);
      if (!claimed) throw new Error('claim failed');
      const lease = leaseOf(claimed);
      await renewLeases(t, lease.owner, [lease], 30_000);
      // An index on a column these change (status, lease_*, fence) would make them cold again.
      expect(await delta()).toEqual({ upd: 2, hot: 2 });
      await t.update(runs).set({ status: 'succeeded', finishedAt: sql`now()` }).where(eq(runs.id, run.id));
      // finished_at leaves the runs_unfinished index: that one must touch the indexes.
      expect(await delta()).toEqual({ upd: 3, hot: 2 });
    });
  });

  it("the reconciler's query reads only unfinished runs, through their index", async () => {
    const { run: queued } = await createRun(db, {
      workflow: 'tasks-test',
      versionId,
      triggerType: 'manual',
      trigger: { type: 'manual' },
    });
    // A long history of finished runs: the index must keep the reconciler off them.
    await db.execute(sql`
      insert into ${runs} (id, workflow, version_id, status, trigger_type, trigger, finished_at)
      select gen_random_uuid(), 'tasks-test', ${versionId}::uuid, 'succeeded', 'manual', '{}'::jsonb, now()
      from generate_series(1, 10000)`);
    await db.execute(sql`analyze ${runs}`);
    const options = { enqueuedBefore: new Date(Date.now() + 60_000), limit: 1000 };
    const result = await db.execute(sql`explain ${staleRunsQuery(db, options)}`);
    const plan = (result as unknown as Record<string, string>[]).map((r) => Object.values(r)[0]).join('\n');
    expect(plan, plan).toMatch(/runs_unfinished/);
    const stale = await staleRuns(db, options);
    expect(stale).toContain(queued.id);
    // Neither finished runs nor the runs leased above are stale.
    const rows = await db.select().from(runs).where(inArray(runs.id, stale));
    for (const row of rows) {
      expect(row.finishedAt).toBeNull();
      expect(row.leaseOwner === null || (row.leaseExpiresAt?.getTime() ?? 0) < Date.now()).toBe(true);
    }
  });
});
