import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRun } from '../../src/engine/start-run.ts';
import { MemoryQueue } from '../../src/queue/memory-queue.ts';
import type { Db } from '../../src/store/db.ts';
import { createRunBatched } from '../../src/store/run-inserts.ts';
import {
  claimRun,
  claimRuns,
  createRun,
  finishRun,
  getRun,
  isCancelRequested,
  type Lease,
  leaseOf,
  markEnqueued,
  releaseRun,
  renewLease,
  renewLeases,
  requestCancel,
  runStatuses,
  staleRuns,
} from '../../src/store/runs.ts';
import { runs, workflowVersions } from '../../src/store/schema.ts';
import { getVersion, upsertVersion } from '../../src/store/versions.ts';
import { createTestStore } from '../helpers/db.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { makeWorkflow } from '../helpers/workflow.ts';

let ctx: Awaited<ReturnType<typeof createTestStore>>;
let db: Db;
let versionId: string;

beforeAll(async () => {
  ctx = await createTestStore();
  db = ctx.store.db;
  const wf = makeWorkflow({ tasks: { a: { action: 'work' } } }, 'runs-test');
  versionId = (await upsertVersion(db, wf, { text: 'tasks: {}', path: 'runs-test.yaml' })).id;
});
afterAll(async () => {
  await ctx?.cleanup();
});

const newRun = async (extra: { workflow?: string; idempotencyKey?: string } = {}) =>
  (
    await createRun(db, {
      workflow: extra.workflow ?? 'runs-test',
      versionId,
      triggerType: 'manual',
      trigger: { type: 'manual', inputs: { n: 1 } },
      ...(extra.idempotencyKey ? { idempotencyKey: extra.idempotencyKey } : {}),
    })
  ).run;

const expire = (runId: string) =>
  waitFor(async () => {
    const [row] = await db
      .select({ expired: sql<boolean>`${runs.leaseExpiresAt} < now()` })
      .from(runs)
      .where(eq(runs.id, runId));
    return row?.expired;
  });

describe('workflow versions', () => {
  it('stores one row per (name, hash), also under concurrent loads', async () => {
    const wf = makeWorkflow({ tasks: { a: { action: 'work', inputs: { ms: 1 } } } }, 'versioned');
    const source = { text: 'the yaml', path: 'versioned.yaml', gitCommit: 'abc123' };
    const rows = await Promise.all(Array.from({ length: 20 }, () => upsertVersion(db, wf, source)));
    expect(new Set(rows.map((r) => r.id)).size).toBe(1);
    const stored = await db.select().from(workflowVersions).where(eq(workflowVersions.name, 'versioned'));
    expect(stored).toHaveLength(1);
    const got = await getVersion(db, rows[0]?.id as string);
    expect(got).toMatchObject({ hash: wf.source.hash, source: 'the yaml', sourcePath: 'versioned.yaml' });
    expect(got?.gitCommit).toBe('abc123');
    expect(got?.definition).toEqual(JSON.parse(JSON.stringify(wf)));
    const other = makeWorkflow({ tasks: { a: { action: 'work', inputs: { ms: 2 } } } }, 'versioned');
    expect((await upsertVersion(db, other, source)).id).not.toBe(got?.id);
    expect(await getVersion(db, '00000000-0000-7000-8000-000000000000')).toBeUndefined();
  });
});

describe('createRun', () => {
  it('creates a queued run pinned to its version', async () => {
    const { run, created } = await createRun(db, {
      workflow: 'runs-test',
      versionId,
      triggerType: 'webhook',
      trigger: { type: 'webhook', body: { a: [1, 2] } },
    });
    expect(created).toBe(true);
    expect(run).toMatchObject({
      status: 'queued',
      versionId,
      fence: 0,
      leaseOwner: null,
      cancelRequested: false,
    });
    expect(run.trigger).toEqual({ type: 'webhook', body: { a: [1, 2] } });
    expect(await getRun(db, run.id)).toEqual(run);
  });

  it('50 concurrent creates with one idempotency key make exactly one run', async () => {
    const results = await Promise.all(
      Array.from({ length: 50 }, () =>
        createRun(db, {
          workflow: 'runs-test',
          versionId,
          triggerType: 'webhook',
          trigger: { type: 'webhook' },
          idempotencyKey: 'delivery-1',
        }),
      ),
    );
    expect(new Set(results.map((r) => r.run.id)).size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    const rows = await db.select().from(runs).where(eq(runs.idempotencyKey, 'delivery-1'));
    expect(rows).toHaveLength(1);
    const again = await createRun(db, {
      workflow: 'runs-test',
      versionId,
      triggerType: 'webhook',
      trigger: { type: 'webhook' },
      idempotencyKey: 'delivery-1',
    });
    expect(again).toEqual({ run: rows[0], created: false });
  });

  it('scopes keys to the workflow, and runs without a key never collide', async () => {
    const a = await newRun({ workflow: 'wf-one', idempotencyKey: 'shared' });
    const b = await newRun({ workflow: 'wf-two', idempotencyKey: 'shared' });
    expect(a.id).not.toBe(b.id);
    const [c, d] = await Promise.all([newRun(), newRun()]);
    expect(c?.id).not.toBe(d?.id);
  });
});

describe('leases', () => {
  it('claims once, renews, finishes and clears the lease', async () => {
    const run = await newRun();
    const claimed = await claimRun(db, run.id, 'worker-a', 30_000);
    expect(claimed).toMatchObject({ status: 'running', leaseOwner: 'worker-a', fence: 1 });
    expect(claimed?.startedAt).toBeInstanceOf(Date);
    expect(await claimRun(db, run.id, 'worker-b', 30_000)).toBeUndefined();
    expect(await claimRun(db, run.id, 'worker-a', 30_000)).toBeUndefined();

    const lease = leaseOf(claimed as NonNullable<typeof claimed>);
    const before = (await getRun(db, run.id))?.leaseExpiresAt as Date;
    expect(await renewLease(db, run.id, 'worker-a', 1, 60_000)).toBe(true);
    const after = (await getRun(db, run.id))?.leaseExpiresAt as Date;
    expect(after.getTime()).toBeGreaterThan(before.getTime());
    expect(await renewLease(db, run.id, 'worker-b', 1, 60_000)).toBe(false);
    expect(await renewLease(db, run.id, 'worker-a', 2, 60_000)).toBe(false);

    const error = { code: 'action', message: 'task "a" failed: boom' };
    expect(await finishRun(db, lease, { status: 'failed', error })).toBe(true);
    const done = await getRun(db, run.id);
    expect(done).toMatchObject({ status: 'failed', error, leaseOwner: null, leaseExpiresAt: null, fence: 1 });
    expect(done?.finishedAt).toBeInstanceOf(Date);
    // Repeating the finish (a lost reply) is harmless; nothing can claim or release a finished run.
    expect(await finishRun(db, lease, { status: 'failed', error })).toBe(true);
    expect(await claimRun(db, run.id, 'worker-b', 30_000)).toBeUndefined();
    expect(await releaseRun(db, lease)).toBe(false);
    expect(await renewLease(db, run.id, 'worker-a', 1, 60_000)).toBe(false);
  });

  it('takes over an expired lease with a higher fence; the old holder can no longer finish', async () => {
    const run = await newRun();
    const first = await claimRun(db, run.id, 'worker-a', 50);
    expect(first?.fence).toBe(1);
    await expire(run.id);
    const second = await claimRun(db, run.id, 'worker-b', 30_000);
    expect(second).toMatchObject({ leaseOwner: 'worker-b', fence: 2, status: 'running' });
    expect(second?.startedAt).toEqual(first?.startedAt);

    const stale: Lease = { runId: run.id, owner: 'worker-a', fence: 1 };
    const snapshot = await getRun(db, run.id);
    expect(await finishRun(db, stale, { status: 'succeeded' })).toBe(false);
    expect(await releaseRun(db, stale)).toBe(false);
    expect(await renewLease(db, run.id, 'worker-a', 1, 30_000)).toBe(false);
    expect(await getRun(db, run.id)).toEqual(snapshot);
    expect(snapshot).toMatchObject({ status: 'running', leaseOwner: 'worker-b', fence: 2, finishedAt: null });

    expect(await finishRun(db, { runId: run.id, owner: 'worker-b', fence: 2 }, { status: 'succeeded' })).toBe(
      true,
    );
    expect((await getRun(db, run.id))?.status).toBe('succeeded');
  });

  it('releases a run back to the queue, after which the releasing lease is dead', async () => {
    const run = await newRun();
    const lease = leaseOf(
      (await claimRun(db, run.id, 'worker-a', 30_000)) as NonNullable<Awaited<ReturnType<typeof claimRun>>>,
    );
    expect(await releaseRun(db, lease)).toBe(true);
    expect(await getRun(db, run.id)).toMatchObject({
      status: 'queued',
      leaseOwner: null,
      leaseExpiresAt: null,
      fence: 1,
    });
    // A run handed back is not finished by the worker that handed it back.
    expect(await finishRun(db, lease, { status: 'cancelled' })).toBe(false);
    expect((await getRun(db, run.id))?.status).toBe('queued');
    const again = await claimRun(db, run.id, 'worker-b', 30_000);
    expect(again).toMatchObject({ fence: 2, leaseOwner: 'worker-b' });
  });

  it('records enqueue times and cancel requests', async () => {
    const run = await newRun();
    expect(await isCancelRequested(db, run.id)).toBe(false);
    await markEnqueued(db, run.id);
    expect((await getRun(db, run.id))?.enqueuedAt).toBeInstanceOf(Date);
    expect(await requestCancel(db, run.id)).toBe(true);
    expect(await isCancelRequested(db, run.id)).toBe(true);
    const lease = leaseOf(
      (await claimRun(db, run.id, 'w', 30_000)) as NonNullable<Awaited<ReturnType<typeof claimRun>>>,
    );
    await finishRun(db, lease, { status: 'cancelled' });
    expect(await requestCancel(db, run.id)).toBe(false);
  });
});

describe('staleRuns', () => {
  it('finds queued and expired runs, skipping live leases and recent enqueues; oldest first', async () => {
    const longAgo = (id: string) =>
      db.update(runs).set({ enqueuedAt: sql`now() - interval '1 hour'` }).where(eq(runs.id, id));
    // A run counts as enqueued from its commit (startRun enqueues right after it).
    const justCommitted = await newRun();
    expect((await getRun(db, justCommitted.id))?.enqueuedAt).toBeInstanceOf(Date);
    const neverEnqueued = await newRun();
    await db.update(runs).set({ enqueuedAt: null }).where(eq(runs.id, neverEnqueued.id));
    const recentlyEnqueued = await newRun();
    await longAgo(recentlyEnqueued.id);
    await markEnqueued(db, recentlyEnqueued.id);
    const enqueuedLongAgo = await newRun();
    await longAgo(enqueuedLongAgo.id);
    const live = await newRun();
    await longAgo(live.id);
    await claimRun(db, live.id, 'worker-a', 60_000);
    const expired = await newRun();
    await longAgo(expired.id);
    await claimRun(db, expired.id, 'worker-a', 50);
    const finished = await newRun();
    await longAgo(finished.id);
    const fin = await claimRun(db, finished.id, 'worker-a', 50);
    await finishRun(db, leaseOf(fin as NonNullable<typeof fin>), { status: 'succeeded' });
    await expire(expired.id);

    const ids = await staleRuns(db, { enqueuedBefore: new Date(Date.now() - 10_000), limit: 1000 });
    const mine = ids.filter((id) =>
      [justCommitted, neverEnqueued, recentlyEnqueued, enqueuedLongAgo, live, expired, finished].some(
        (r) => r.id === id,
      ),
    );
    expect(mine).toEqual([neverEnqueued.id, enqueuedLongAgo.id, expired.id]);

    const limited = await staleRuns(db, { enqueuedBefore: new Date(Date.now() - 10_000), limit: 2 });
    expect(limited).toHaveLength(2);
    expect(limited).toEqual(ids.slice(0, 2));
  });
});

describe('group-committed run inserts', () => {
  it('commits a burst of runs in fewer statements than runs, each caller getting its own row', async () => {
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        createRunBatched(db, {
          workflow: 'runs-test',
          versionId,
          triggerType: 'webhook',
          trigger: { type: 'webhook', body: { i } },
        }),
      ),
    );
    expect(new Set(results.map((r) => r.run.id)).size).toBe(40);
    results.forEach((r, i) => {
      expect(r.created).toBe(true);
      expect(r.run.trigger).toEqual({ type: 'webhook', body: { i } });
      expect(r.run.status).toBe('queued');
      expect(r.run.enqueuedAt).toBeInstanceOf(Date);
    });
    // created_at is the inserting transaction's start, so distinct values count the INSERTs:
    // calls fired together reach Postgres as a few statements, not 40.
    const statements = new Set(results.map((r) => r.run.createdAt.getTime()));
    expect(statements.size).toBeLessThanOrEqual(4);
    for (const r of results) expect((await getRun(db, r.run.id))?.id).toBe(r.run.id);
  });

  it('a row Postgres rejects fails only its own caller; the others of the batch are committed', async () => {
    const good = (i: number) =>
      createRunBatched(db, {
        workflow: 'runs-test',
        versionId,
        triggerType: 'webhook',
        trigger: { type: 'webhook', body: { i } },
      });
    // jsonb cannot hold a NUL character: this row is refused by Postgres.
    const bad = createRunBatched(db, {
      workflow: 'runs-test',
      versionId,
      triggerType: 'webhook',
      trigger: { type: 'webhook', body: { text: 'nul \u0000 here' } },
    });
    const settled = await Promise.allSettled([good(1), bad, good(2), good(3)]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    for (const s of settled) {
      if (s.status === 'fulfilled') expect((await getRun(db, s.value.run.id))?.status).toBe('queued');
    }
  });

  it('de-duplicates idempotency keys within a batch and against stored runs', async () => {
    const input = (key?: string) => ({
      workflow: 'runs-test',
      versionId,
      triggerType: 'webhook' as const,
      trigger: { type: 'webhook' as const, body: { key } },
      ...(key ? { idempotencyKey: key } : {}),
    });
    const stored = await createRun(db, input('batch-stored'));
    const keys = [
      'batch-a',
      'batch-b',
      'batch-a',
      undefined,
      'batch-stored',
      'batch-b',
      undefined,
      'batch-a',
    ];
    const results = await Promise.all(keys.map((key) => createRunBatched(db, input(key))));
    const ids = (key: string) => results.filter((_, i) => keys[i] === key).map((r) => r.run.id);
    expect(new Set(ids('batch-a')).size).toBe(1);
    expect(new Set(ids('batch-b')).size).toBe(1);
    expect(ids('batch-stored')).toEqual([stored.run.id]);
    // Exactly one caller per new key created its run; the stored key created nothing.
    const created = (key: string | undefined) =>
      results.filter((r, i) => keys[i] === key && r.created).length;
    expect([created('batch-a'), created('batch-b'), created('batch-stored'), created(undefined)]).toEqual([
      1, 1, 0, 2,
    ]);
    const [{ n } = { n: 0 }] = await db
      .select({ n: sql<number>`count(*)::int` })
      .from(runs)
      .where(sql`${runs.idempotencyKey} in ('batch-a', 'batch-b', 'batch-stored')`);
    expect(n).toBe(3);
  });
});

describe('claimRuns', () => {
  it('claims every claimable run of a batch in one statement and leaves the others', async () => {
    const free = await newRun();
    const free2 = await newRun();
    const held = await newRun();
    await claimRun(db, held.id, 'worker-a', 60_000);
    const done = await newRun();
    const fin = await claimRun(db, done.id, 'worker-a', 60_000);
    await finishRun(db, leaseOf(fin as NonNullable<typeof fin>), { status: 'succeeded' });

    const rows = await claimRuns(db, [free.id, held.id, done.id, free2.id], 'worker-b', 30_000);
    expect(rows.map((r) => r.id).sort()).toEqual([free.id, free2.id].sort());
    // What a worker needs to run it, the trigger decoded from its JSON.
    for (const row of rows) {
      expect(row).toEqual({
        id: row.id,
        fence: 1,
        versionId: free.versionId,
        trigger: free.trigger,
        parentRunId: null,
      });
      expect(await getRun(db, row.id)).toMatchObject({ leaseOwner: 'worker-b', fence: 1, status: 'running' });
    }
    const statuses = await runStatuses(db, [
      free.id,
      held.id,
      done.id,
      '00000000-0000-7000-8000-000000000000',
    ]);
    expect(Object.fromEntries(statuses)).toEqual({
      [free.id]: 'running',
      [held.id]: 'running',
      [done.id]: 'succeeded',
    });
    expect(await claimRuns(db, [], 'worker-b', 30_000)).toEqual([]);
  });
});

describe('renewLeases', () => {
  it('renews every lease a worker still holds in one statement and reports cancel requests', async () => {
    const mine = await newRun();
    const cancelled = await newRun();
    const takenOver = await newRun();
    const claim = async (id: string) => {
      const row = await claimRun(db, id, 'worker-a', 200);
      if (!row) throw new Error(`could not claim ${id}`);
      return leaseOf(row);
    };
    const leases = [await claim(mine.id), await claim(cancelled.id), await claim(takenOver.id)];
    await requestCancel(db, cancelled.id);
    await expire(takenOver.id);
    await claimRun(db, takenOver.id, 'worker-b', 60_000);

    const states = await renewLeases(db, 'worker-a', leases, 60_000);
    expect(Object.fromEntries(states)).toEqual({
      [mine.id]: { kept: true, cancelRequested: false },
      [cancelled.id]: { kept: true, cancelRequested: true },
      [takenOver.id]: { kept: false, cancelRequested: false },
    });
    const [row] = await db
      .select({ left: sql<number>`extract(epoch from ${runs.leaseExpiresAt} - now())` })
      .from(runs)
      .where(eq(runs.id, mine.id));
    expect(Number(row?.left)).toBeGreaterThan(50);
    // The new owner's lease is untouched.
    expect((await getRun(db, takenOver.id))?.leaseOwner).toBe('worker-b');
    expect(await renewLeases(db, 'worker-a', [], 60_000)).toEqual(new Map());
  });
});

describe('startRun', () => {
  const workflow = makeWorkflow({ tasks: { a: { action: 'work' } } }, 'start-test');
  const trigger = { type: 'api' as const, inputs: {} };

  it('answers once the run is committed, without waiting for the queue', async () => {
    const enqueued: string[] = [];
    // A Redis that never answers: the caller must not wait for it.
    const queue = new MemoryQueue();
    queue.enqueue = (runId: string) => {
      enqueued.push(runId);
      return new Promise<void>(() => {});
    };
    const { run, created } = await startRun({ db, queue }, { workflow, trigger });
    expect(created).toBe(true);
    expect(enqueued).toEqual([run.id]);
    expect((await getRun(db, run.id))?.status).toBe('queued');
  });

  it('reports a failed enqueue with the run id, and the run stays committed for the reconciler', async () => {
    const failures: [string, unknown][] = [];
    const queue = new MemoryQueue();
    queue.enqueue = () => Promise.reject(new Error('redis is gone'));
    const { run } = await startRun(
      { db, queue, onEnqueueError: (runId, err) => failures.push([runId, err]) },
      { workflow, trigger },
    );
    await waitFor(() => failures.length === 1);
    expect(failures).toEqual([[run.id, new Error('redis is gone')]]);
    const row = await getRun(db, run.id);
    expect(row?.status).toBe('queued');
    expect(row?.enqueuedAt).toBeInstanceOf(Date);
  });
});
