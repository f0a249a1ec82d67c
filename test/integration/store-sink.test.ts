import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { executeRun } from '../../src/engine/executor.ts';
import { sleep } from '../../src/plugins/abort.ts';
import { type AnyAction, defineAction } from '../../src/plugins/define-action.ts';
import { type Db, openStore } from '../../src/store/db.ts';
import { claimRun, createRun, getRun, type Lease, leaseOf, releaseRun } from '../../src/store/runs.ts';
import { storeSink } from '../../src/store/store-sink.ts';
import { FencedError, listLogs, listTaskRuns } from '../../src/store/task-runs.ts';
import { upsertVersion } from '../../src/store/versions.ts';
import type { Workflow } from '../../src/workflow/types.ts';
import { createTestStore } from '../helpers/db.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { makeWorkflow } from '../helpers/workflow.ts';

let ctx: Awaited<ReturnType<typeof createTestStore>>;
let db: Db;
const env = { filesDir: '/nonexistent', httpAllow: [], outputLimitBytes: 64 * 1024 };

const say = defineAction({
  name: 'say',
  description: 'logs its text (and waits `ms`), returns it',
  input: z.object({ text: z.string(), ms: z.number().default(0) }),
  output: z.object({ text: z.string() }),
  async run(ctx) {
    ctx.log.info(`saying ${ctx.input.text}`);
    ctx.log.line('stderr', 'to stderr');
    await sleep(ctx.input.ms, ctx.signal);
    return { text: ctx.input.text };
  },
});
const flaky = defineAction({
  name: 'flaky',
  description: 'fails on its first attempt',
  input: z.object({}),
  output: z.object({ attempt: z.number() }),
  run(ctx) {
    if (ctx.attempt < 2) throw new Error(`boom on attempt ${ctx.attempt}`);
    return { attempt: ctx.attempt };
  },
});
const actions = new Map<string, AnyAction>([
  ['say', say],
  ['flaky', flaky],
]);

beforeAll(async () => {
  ctx = await createTestStore();
  db = ctx.store.db;
});
afterAll(async () => {
  await ctx?.cleanup();
});

async function start(workflow: Workflow, owner = 'worker-a', leaseMs = 30_000): Promise<Lease> {
  const version = await upsertVersion(db, workflow, { text: '', path: `${workflow.name}.yaml` });
  const { run } = await createRun(db, {
    workflow: workflow.name,
    versionId: version.id,
    triggerType: 'manual',
    trigger: { type: 'manual' },
  });
  const claimed = await claimRun(db, run.id, owner, leaseMs);
  if (!claimed) throw new Error('claim failed');
  return leaseOf(claimed);
}

const execute = (workflow: Workflow, lease: Lease, events: Parameters<typeof executeRun>[0]['events']) =>
  executeRun({
    workflow,
    actions,
    runId: lease.runId,
    trigger: { type: 'manual' },
    secrets: {},
    events,
    env,
  });

describe('storeSink with the executor', () => {
  it('checkpoints every attempt, batches logs and finishes the run', async () => {
    const wf = makeWorkflow(
      {
        tasks: {
          greet: { action: 'say', inputs: { text: 'hello' } },
          shout: {
            action: 'say',
            depends_on: ['greet'],
            inputs: { text: '${tasks.greet.output.text} again' },
          },
          never: { action: 'say', depends_on: ['greet'], if: false, inputs: { text: 'no' } },
          flaky: { action: 'flaky', retry: { attempts: 2, delay: '10ms' } },
        },
      },
      'sink-e2e',
    );
    const lease = await start(wf);
    const result = await execute(wf, lease, storeSink(db, lease, { outputLimitBytes: env.outputLimitBytes }));
    expect(result.status).toBe('succeeded');

    const run = await getRun(db, lease.runId);
    expect(run).toMatchObject({ status: 'succeeded', error: null, leaseOwner: null, leaseExpiresAt: null });
    expect(run?.finishedAt).toBeInstanceOf(Date);

    const rows = await listTaskRuns(db, lease.runId);
    const summary = rows
      .map((r) => `${r.taskId}#${r.attempt}:${r.status}${r.retryAt ? ':retry' : ''}`)
      .sort();
    expect(summary).toEqual([
      'flaky#1:failed:retry',
      'flaky#2:succeeded',
      'greet#1:succeeded',
      'never#0:skipped',
      'shout#1:succeeded',
    ]);
    const shout = rows.find((r) => r.taskId === 'shout');
    expect(shout).toMatchObject({ input: { text: 'hello again', ms: 0 }, output: { text: 'hello again' } });
    expect(shout?.startedAt).toBeInstanceOf(Date);
    expect(shout?.finishedAt).toBeInstanceOf(Date);
    expect(typeof shout?.durationMs).toBe('number');
    expect(rows.find((r) => r.taskId === 'flaky' && r.attempt === 1)?.error).toMatchObject({
      message: 'boom on attempt 1',
    });
    expect(rows.find((r) => r.taskId === 'never')?.reason).toBe('if: false');

    const logs = await listLogs(db, lease.runId);
    expect(logs.map((l) => `${l.taskId}:${l.stream ?? '-'}:${l.message}`)).toEqual([
      'greet:-:saying hello',
      'greet:stderr:to stderr',
      'shout:-:saying hello again',
      'shout:stderr:to stderr',
    ]);
  });

  it('writes buffered log lines within the flush interval while the task still runs', async () => {
    const wf = makeWorkflow(
      { tasks: { slow: { action: 'say', inputs: { text: 'slowly', ms: 1500 } } } },
      'sink-slow',
    );
    const lease = await start(wf);
    const sink = storeSink(db, lease, { outputLimitBytes: env.outputLimitBytes });
    const done = execute(wf, lease, sink);
    await waitFor(async () => (await listLogs(db, lease.runId)).length === 2, { timeoutMs: 1000 });
    const [row] = await listTaskRuns(db, lease.runId);
    expect(row?.status).toBe('running');
    expect((await done).status).toBe('succeeded');
    expect(await listLogs(db, lease.runId)).toHaveLength(2);
  });

  it("a sibling's result does not write a running task's row early; the flush timer does", async () => {
    const wf = makeWorkflow(
      {
        tasks: {
          fast: { action: 'say', inputs: { text: 'quick' } },
          slow: { action: 'say', inputs: { text: 'slowly', ms: 3000 } },
        },
      },
      'sink-siblings',
    );
    const lease = await start(wf);
    // A long interval, so the only early writer of the running row could be the sibling's result.
    const sink = storeSink(db, lease, { outputLimitBytes: env.outputLimitBytes, flushIntervalMs: 1500 });
    const done = execute(wf, lease, sink);
    const afterFast = await waitFor(async () => {
      const rows = await listTaskRuns(db, lease.runId);
      return rows.some((r) => r.taskId === 'fast' && r.status === 'succeeded') ? rows : undefined;
    });
    // Only the finished task is stored right after it ends; its log lines are there too.
    expect(afterFast.map((r) => r.taskId)).toEqual(['fast']);
    expect((await listLogs(db, lease.runId)).some((l) => l.taskId === 'fast')).toBe(true);
    // The timer then writes the slow task's running row, before the task ends.
    await waitFor(async () => (await listTaskRuns(db, lease.runId)).some((r) => r.taskId === 'slow'), {
      timeoutMs: 2900,
      message: "the slow task's running row",
    });
    expect((await listTaskRuns(db, lease.runId)).find((r) => r.taskId === 'slow')?.status).toBe('running');
    expect((await done).status).toBe('succeeded');
  });

  it('stops at the first write after a takeover and reports it once', async () => {
    const wf = makeWorkflow({ tasks: { a: { action: 'say', inputs: { text: 'a' } } } }, 'sink-fenced');
    const old = await start(wf, 'worker-a', 50);
    await waitFor(async () => (await claimRun(db, old.runId, 'worker-b', 30_000)) !== undefined);
    const fenced: unknown[] = [];
    const sink = storeSink(db, old, { outputLimitBytes: 1024, onFenced: (err) => fenced.push(err) });
    await expect(execute(wf, old, sink)).rejects.toBeInstanceOf(FencedError);
    expect(fenced).toHaveLength(1);
    expect(fenced[0]).toBeInstanceOf(FencedError);
    expect(await listTaskRuns(db, old.runId)).toEqual([]);
    expect(await getRun(db, old.runId)).toMatchObject({
      status: 'running',
      leaseOwner: 'worker-b',
      fence: 2,
    });
  });

  it('does not finish a run its worker handed back', async () => {
    const wf = makeWorkflow(
      { tasks: { a: { action: 'say', inputs: { text: 'a', ms: 5000 } } } },
      'sink-release',
    );
    const lease = await start(wf);
    const fenced: unknown[] = [];
    const controller = new AbortController();
    const sink = storeSink(db, lease, { outputLimitBytes: 1024, onFenced: (err) => fenced.push(err) });
    const done = executeRun({
      workflow: wf,
      actions,
      runId: lease.runId,
      trigger: { type: 'manual' },
      secrets: {},
      events: sink,
      env,
      signal: controller.signal,
    });
    await waitFor(async () => (await listTaskRuns(db, lease.runId))[0]?.status === 'running');
    expect(await releaseRun(db, lease)).toBe(true);
    controller.abort(new Error('worker shutting down'));
    await expect(done).rejects.toBeInstanceOf(FencedError);
    expect(fenced).toHaveLength(1);
    expect(await getRun(db, lease.runId)).toMatchObject({
      status: 'queued',
      finishedAt: null,
      leaseOwner: null,
    });
    expect((await listTaskRuns(db, lease.runId))[0]?.status).toBe('running');
  });
});

describe('storeSink across a database outage', () => {
  let proxy: Server | undefined;
  const sockets = new Set<Socket>();
  const listen = (port: number) =>
    new Promise<Server>((resolve, reject) => {
      const server = createServer((client) => {
        const upstream = connect(5432, '127.0.0.1');
        sockets.add(client).add(upstream);
        client.pipe(upstream).pipe(client);
        const drop = () => {
          client.destroy();
          upstream.destroy();
        };
        client.on('error', drop).on('close', drop);
        upstream.on('error', drop).on('close', drop);
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve(server));
    });
  const stop = async () => {
    for (const s of sockets) s.destroy();
    sockets.clear();
    await new Promise((r) => proxy?.close(r));
    proxy = undefined;
  };
  afterAll(stop);

  it('retries writes until Postgres is back', async () => {
    proxy = await listen(0);
    const port = (proxy.address() as { port: number }).port;
    const url = new URL(ctx.database.url);
    url.port = String(port);
    const flaky = openStore({ databaseUrl: url.toString(), dataDir: '/nonexistent', max: 1 });
    try {
      const wf = makeWorkflow({ tasks: { a: { action: 'say', inputs: { text: 'a' } } } }, 'sink-outage');
      const lease = await start(wf);
      const retries: unknown[] = [];
      const sink = storeSink(flaky.db, lease, {
        outputLimitBytes: 1024,
        retry: { maxMs: 15_000, initialMs: 50, onRetry: (err) => retries.push(err) },
      });
      const base = { type: 'task.status', runId: lease.runId, taskId: 'a', action: 'say' } as const;
      await sink.emit({ ...base, status: 'running', attempt: 1, at: new Date().toISOString(), input: {} });

      await stop(); // Postgres "restarts": connections drop, new ones are refused
      const write = sink.emit({
        ...base,
        status: 'succeeded',
        attempt: 1,
        at: new Date().toISOString(),
        output: 1,
      });
      await waitFor(() => retries.length >= 2);
      proxy = await listen(port);
      await write;

      expect((await listTaskRuns(db, lease.runId))[0]).toMatchObject({ status: 'succeeded', output: 1 });
      expect(retries.length).toBeGreaterThanOrEqual(2);
    } finally {
      await flaky.close();
    }
  });
});
