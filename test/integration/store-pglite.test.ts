import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/store/db.ts';
import { claimRun, createRun, finishRun, getRun, leaseOf, staleRuns } from '../../src/store/runs.ts';
import { FencedError, listTaskRuns, loadCheckpoint, recordTaskEvent } from '../../src/store/task-runs.ts';
import { upsertVersion } from '../../src/store/versions.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { makeWorkflow } from '../helpers/workflow.ts';

let dir: string;
let store: Store;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'baton-pglite-'));
  store = openStore({ dataDir: dir });
  await store.migrate();
});
afterAll(async () => {
  await store?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the store on embedded PGlite', () => {
  it('runs the same queries: idempotent create, claim, fenced checkpoints, resume', async () => {
    expect(store.kind).toBe('pglite');
    const { db } = store;
    const wf = makeWorkflow({ tasks: { a: { action: 'work' }, b: { action: 'work' } } }, 'embedded');
    const version = await upsertVersion(db, wf, { text: 'yaml', path: 'embedded.yaml' });
    expect((await upsertVersion(db, wf, { text: 'yaml', path: 'embedded.yaml' })).id).toBe(version.id);

    const input = {
      workflow: 'embedded',
      versionId: version.id,
      triggerType: 'webhook' as const,
      trigger: { type: 'webhook' as const, body: { n: 1 } },
      idempotencyKey: 'k1',
    };
    const results = await Promise.all(Array.from({ length: 5 }, () => createRun(db, input)));
    expect(new Set(results.map((r) => r.run.id)).size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    const runId = results[0]?.run.id as string;
    expect(await staleRuns(db, { enqueuedBefore: new Date(), limit: 10 })).toEqual([runId]);

    const first = await claimRun(db, runId, 'worker-a', 1000);
    expect(first).toMatchObject({ status: 'running', fence: 1, leaseOwner: 'worker-a' });
    expect(await claimRun(db, runId, 'worker-b', 30_000)).toBeUndefined();
    const old = leaseOf(first as NonNullable<typeof first>);
    const at = new Date().toISOString();
    const base = { type: 'task.status', runId, action: 'work', at } as const;
    const limits = { outputLimitBytes: 1024 };
    await recordTaskEvent(
      db,
      old,
      { ...base, taskId: 'a', status: 'running', attempt: 1, input: { x: 1 } },
      limits,
    );
    await recordTaskEvent(
      db,
      old,
      { ...base, taskId: 'a', status: 'succeeded', attempt: 1, output: { y: 2 } },
      limits,
    );
    await recordTaskEvent(db, old, { ...base, taskId: 'b', status: 'running', attempt: 1 }, limits);

    // worker-a goes quiet; worker-b takes over and resumes from the checkpoint
    const second = await waitFor(() => claimRun(db, runId, 'worker-b', 30_000));
    expect(second.fence).toBe(2);
    const checkpoint = await loadCheckpoint(db, runId);
    expect(checkpoint.completed).toEqual({
      a: { status: 'succeeded', attempts: 1, output: { y: 2 }, startedAt: at },
    });
    expect(checkpoint.attempts).toEqual({ a: { last: 1, failures: 0 }, b: { last: 1, failures: 0 } });
    await expect(
      recordTaskEvent(db, old, { ...base, taskId: 'b', status: 'failed', attempt: 1 }, limits),
    ).rejects.toBeInstanceOf(FencedError);

    const lease = leaseOf(second);
    await recordTaskEvent(db, lease, { ...base, taskId: 'b', status: 'running', attempt: 2 }, limits);
    await recordTaskEvent(
      db,
      lease,
      { ...base, taskId: 'b', status: 'succeeded', attempt: 2, output: 'ok' },
      limits,
    );
    expect(await finishRun(db, old, { status: 'failed' })).toBe(false);
    expect(await finishRun(db, lease, { status: 'succeeded' })).toBe(true);
    expect(await getRun(db, runId)).toMatchObject({ status: 'succeeded', leaseOwner: null, fence: 2 });
    expect((await listTaskRuns(db, runId)).map((r) => `${r.taskId}#${r.attempt}:${r.status}`)).toEqual([
      'a#1:succeeded',
      'b#1:running',
      'b#2:succeeded',
    ]);
  });
});
