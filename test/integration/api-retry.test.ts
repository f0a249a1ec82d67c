import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { taskRuns } from '../../src/store/schema.ts';
import { Worker } from '../../src/worker/worker.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { type ApiContext, calls, createApiContext, switches } from './api-context.ts';

const pipeline = (version: string) => `name: pipeline
tasks:
  first:
    action: test.step
    inputs: { label: "first-${version}" }
  second:
    action: test.step
    depends_on: [first]
    inputs: { label: "second-\${tasks.first.output.doubled}", flaky: true }
  third:
    action: test.step
    depends_on: [second]
    inputs: { label: "third-${version}" }
`;

let ctx: ApiContext;
let worker: Worker;

beforeAll(async () => {
  ctx = await createApiContext();
  ctx.registry.setFile('pipeline.yaml', pipeline('v1'));
  worker = new Worker({
    db: ctx.store.db,
    queue: ctx.queue,
    actions: () => ctx.registry.catalogue().actions,
    env: { filesDir: join(ctx.dir, 'files'), httpAllow: [], outputLimitBytes: 64 * 1024 },
    secrets: () => ({}),
    concurrency: 4,
    leaseMs: 2000,
    blockMs: 100,
  });
  worker.start();
});
afterAll(async () => {
  await worker?.stop(1000);
  await ctx?.cleanup();
});

async function finished(id: string) {
  return waitFor(
    async () => {
      const { body } = await ctx.call('GET', `/api/runs/${id}`);
      return ['succeeded', 'failed', 'cancelled', 'timed_out'].includes(body.run.status) ? body : undefined;
    },
    { timeoutMs: 10_000, message: `run ${id} to finish` },
  );
}

const callsOf = (runId: string) =>
  calls.filter((c) => c.startsWith(`${runId}:`)).map((c) => c.slice(runId.length + 1));

describe('retry and retry-from-failed, executed by a worker', () => {
  let failedId: string;

  it('a run fails at its flaky task', async () => {
    switches.fail = true;
    const { status, body } = await ctx.call('POST', '/api/workflows/pipeline/runs', {});
    expect(status).toBe(201);
    failedId = body.run.id;
    const done = await finished(failedId);
    expect(done.run.status).toBe('failed');
    expect(callsOf(failedId)).toEqual(['first-v1', 'second-first-v1first-v1']);
    const byTask = Object.fromEntries(
      done.tasks.map((t: { task_id: string; status: string }) => [t.task_id, t.status]),
    );
    expect(byTask).toMatchObject({ first: 'succeeded', second: 'failed' });
  });

  it('retry-from-failed reuses the succeeded task and runs only the rest, on the pinned version', async () => {
    // The file changes meanwhile: the retry must still run v1.
    ctx.registry.setFile('pipeline.yaml', pipeline('v2'));
    switches.fail = false;
    const { status, body } = await ctx.call('POST', `/api/runs/${failedId}/retry-from-failed`);
    expect(status).toBe(201);
    expect(body.reused_tasks).toEqual(['first']);
    const original = (await ctx.call('GET', `/api/runs/${failedId}`)).body.run;
    expect(body.run).toMatchObject({ parent_run_id: failedId, version_id: original.version_id });

    const done = await finished(body.run.id);
    expect(done.run.status).toBe('succeeded');
    // `first` did not run again; `second` saw its reused output; `third` is v1's.
    expect(callsOf(body.run.id)).toEqual(['second-first-v1first-v1', 'third-v1']);
    const rows = await ctx.store.db.select().from(taskRuns).where(eq(taskRuns.runId, body.run.id));
    const first = rows.filter((r) => r.taskId === 'first');
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ status: 'succeeded', reason: `reused from run ${failedId}` });
  });

  it('retry runs everything again with the same version and trigger data', async () => {
    const { status, body } = await ctx.call('POST', `/api/runs/${failedId}/retry`);
    expect(status).toBe(201);
    const original = (await ctx.call('GET', `/api/runs/${failedId}`)).body.run;
    expect(body.run).toMatchObject({
      version_id: original.version_id,
      trigger: original.trigger,
      trigger_type: 'retry',
      parent_run_id: failedId,
    });
    const done = await finished(body.run.id);
    expect(done.run.status).toBe('succeeded');
    expect(callsOf(body.run.id)).toEqual(['first-v1', 'second-first-v1first-v1', 'third-v1']);
  });

  it('a new run starts the current version (v2)', async () => {
    const { body } = await ctx.call('POST', '/api/workflows/pipeline/runs', {});
    const done = await finished(body.run.id);
    expect(done.run.status).toBe('succeeded');
    expect(callsOf(body.run.id)).toEqual(['first-v2', 'second-first-v2first-v2', 'third-v2']);
    const v1 = (await ctx.call('GET', `/api/runs/${failedId}`)).body.run.version_id;
    expect(done.run.version_id).not.toBe(v1);
  });

  it('retry-from-failed of the succeeded retry is a 409', async () => {
    const { body } = await ctx.call('GET', `/api/runs?workflow=pipeline&status=succeeded&limit=1`);
    const res = await ctx.call('POST', `/api/runs/${body.runs[0].id}/retry-from-failed`);
    expect(res.status).toBe(409);
  });
});

describe('cancel of a running run, executed by a worker', () => {
  it("stops it within a heartbeat: the worker's one UPDATE for all its runs reads the request", async () => {
    ctx.registry.setFile(
      'slow.yaml',
      'name: slow\ntasks:\n  wait:\n    action: sleep\n    inputs: { duration: 30s }\n  after:\n    action: test.step\n    depends_on: [wait]\n    inputs: { label: never }\n',
    );
    const { status, body } = await ctx.call('POST', '/api/workflows/slow/runs', {});
    expect(status).toBe(201);
    const id = body.run.id as string;
    await waitFor(
      async () => {
        const { body: run } = await ctx.call('GET', `/api/runs/${id}`);
        return run.tasks.some((t: { task_id: string; status: string }) => t.task_id === 'wait');
      },
      { timeoutMs: 10_000, message: 'the sleep task to start' },
    );
    expect((await ctx.call('POST', `/api/runs/${id}/cancel`)).status).toBe(202);
    const done = await finished(id);
    expect(done.run.status).toBe('cancelled');
    // The sleep was 30 s: only the heartbeat's cancel could end the run before the test's timeout.
    expect(callsOf(id)).toEqual([]);
  });
});
