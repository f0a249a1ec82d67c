import { type Config, secretsFromEnv } from './config.ts';
import { type StartRunRequest, startRun } from './engine/start-run.ts';
import { NotFoundError } from './errors.ts';
import { type Catalogue, loadCatalogue } from './plugins/catalogue.ts';
import type { ActionEnvironment } from './plugins/define-action.ts';
import { openQueue } from './queue/open-queue.ts';
import type { Queue } from './queue/queue.ts';
import { openStore, type Store } from './store/db.ts';
import { startReconciler } from './worker/reconciler.ts';
import { Worker } from './worker/worker.ts';
import { loadWorkflowDir } from './workflow/loader.ts';
import type { Workflow } from './workflow/types.ts';

export type Log = (level: 'info' | 'warn' | 'error', message: string) => void;

export interface RuntimeOptions {
  /** Run workers in this process (serve without Redis, or `baton worker`). */
  workers: boolean;
  /** Re-enqueue runs Postgres holds without a live lease (serve). */
  reconciler: boolean;
  concurrency?: number;
  log: Log;
}

/** Store, queue, actions, workflows and (optionally) workers and reconciler, wired from config. */
export interface Runtime {
  config: Config;
  store: Store;
  queue: Queue;
  catalogue: Catalogue;
  workflows(): Map<string, Workflow>;
  startRun(name: string, request: Omit<StartRunRequest, 'workflow'>): ReturnType<typeof startRun>;
  worker?: Worker;
  close(): Promise<void>;
}

export function actionEnvironment(config: Config): ActionEnvironment {
  return {
    filesDir: config.filesDir,
    httpAllow: config.httpAllow,
    outputLimitBytes: config.outputLimitBytes,
  };
}

export async function openRuntime(config: Config, options: RuntimeOptions): Promise<Runtime> {
  const store = openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  await store.migrate();
  const queue = openQueue({ redisUrl: config.redisUrl, prefix: config.queuePrefix });
  const catalogue = await loadCatalogue([config.actionsDir]);
  for (const p of catalogue.problems) options.log('warn', `action ${p.file}: ${p.message}`);

  const workflows = new Map<string, Workflow>();
  for (const result of await loadWorkflowDir(config.workflowsDir, { catalogue })) {
    if (result.workflow) workflows.set(result.workflow.name, result.workflow);
    for (const p of result.problems) options.log('warn', `${p.file}:${p.line}:${p.column}: ${p.message}`);
  }

  const deps = {
    db: store.db,
    queue,
    onEnqueueError: (runId: string, err: unknown) =>
      options.log(
        'warn',
        `run ${runId} is saved but not yet queued (${(err as Error).message}); the reconciler will queue it`,
      ),
  };

  let worker: Worker | undefined;
  if (options.workers) {
    worker = new Worker({
      db: store.db,
      queue,
      actions: () => catalogue.actions,
      env: actionEnvironment(config),
      secrets: () => secretsFromEnv(process.env),
      concurrency: options.concurrency ?? config.workerConcurrency,
      leaseMs: config.leaseMs,
      log: options.log,
    });
    worker.start();
  }
  const reconciler = options.reconciler
    ? startReconciler({
        db: store.db,
        queue,
        intervalMs: config.reconcileIntervalMs,
        graceMs: config.leaseMs * 2,
        onError: (err) => options.log('warn', `reconciler: ${(err as Error).message}`),
        onRequeue: (ids) => options.log('info', `reconciler re-queued ${ids.length} run(s)`),
      })
    : undefined;

  return {
    config,
    store,
    queue,
    catalogue,
    workflows: () => workflows,
    worker,
    startRun(name, request) {
      const workflow = workflows.get(name);
      if (!workflow) throw new NotFoundError(`no workflow named "${name}"`);
      return startRun(deps, { ...request, workflow });
    },
    async close() {
      await reconciler?.stop();
      await worker?.stop(config.shutdownGraceMs);
      await queue.close();
      await store.close();
    },
  };
}
