import { eq } from 'drizzle-orm';
import type { Hono } from 'hono';
import { createLogger } from '../../src/log.ts';
import { createMetrics } from '../../src/metrics/metrics.ts';
import type { Runtime } from '../../src/runtime.ts';
import { createApp } from '../../src/server.ts';
import type { Db } from '../../src/store/db.ts';
import { createRun } from '../../src/store/runs.ts';
import { runs, taskLogs, taskRuns } from '../../src/store/schema.ts';
import { upsertVersion } from '../../src/store/versions.ts';
import type { Workflow } from '../../src/workflow/types.ts';
import { type ApiContext, createApiContext } from './api-context.ts';

/** The real createApp (API + pages behind the HTTP defaults) over the test registry and database. */
export async function createPagesContext(
  env: Record<string, string> = {},
): Promise<ApiContext & { web: Hono; runtime: Runtime }> {
  const ctx = await createApiContext({ env });
  const logger = createLogger('silent');
  const runtime = {
    ...ctx.deps,
    store: ctx.store,
    registry: ctx.registry,
    logger,
    metrics: createMetrics({ db: ctx.store.db, queue: ctx.queue, logger }),
    close: async () => {},
  } as unknown as Runtime;
  return { ...ctx, web: createApp(runtime), runtime };
}

export interface SeedTask {
  taskId: string;
  status: string;
  attempt?: number;
  input?: unknown;
  output?: unknown;
  error?: unknown;
  startOffsetMs?: number;
  durationMs?: number;
  logs?: string[];
}

/** A run of `workflow`'s version with the given status and task attempts, written straight to the store. */
export async function seedRun(
  db: Db,
  workflow: Workflow,
  status: string,
  tasks: SeedTask[] = [],
  createdAt?: Date,
): Promise<string> {
  const version = await upsertVersion(db, workflow, {
    text: workflow.source.text,
    path: workflow.source.file,
  });
  const { run } = await createRun(db, {
    workflow: workflow.name,
    versionId: version.id,
    triggerType: 'api',
    trigger: { type: 'api', inputs: {} },
  });
  const start = createdAt ?? new Date(Date.now() - 60_000);
  const finished = status !== 'queued' && status !== 'running';
  await db
    .update(runs)
    .set({
      status,
      createdAt: start,
      startedAt: status === 'queued' ? null : start,
      finishedAt: finished ? new Date(start.getTime() + 5000) : null,
    })
    .where(eq(runs.id, run.id));
  for (const t of tasks) {
    const at = new Date(start.getTime() + (t.startOffsetMs ?? 0));
    const done = t.status !== 'running';
    await db.insert(taskRuns).values({
      runId: run.id,
      taskId: t.taskId,
      attempt: t.attempt ?? 1,
      action: 'test.step',
      status: t.status,
      input: t.input ?? null,
      output: t.output ?? null,
      error: t.error ?? null,
      startedAt: at,
      finishedAt: done ? new Date(at.getTime() + (t.durationMs ?? 100)) : null,
      durationMs: done ? (t.durationMs ?? 100) : null,
    });
    if (t.logs?.length) {
      await db.insert(taskLogs).values(
        t.logs.map((message) => ({
          runId: run.id,
          taskId: t.taskId,
          attempt: t.attempt ?? 1,
          at,
          level: 'info',
          stream: 'stdout',
          message,
        })),
      );
    }
  }
  return run.id;
}
