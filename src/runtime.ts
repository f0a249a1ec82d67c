import { mkdirSync } from 'node:fs';
import type { ApiDeps } from './api/deps.ts';
import { type Config, ConfigError } from './config.ts';
import { loadProviders } from './connections/providers.ts';
import { Connections } from './connections/service.ts';
import { type StartRunRequest, startRun } from './engine/start-run.ts';
import { ConflictError, NotFoundError } from './errors.ts';
import { GitSync } from './git/sync.ts';
import { createLogger, type Logger } from './log.ts';
import { createMetrics } from './metrics/metrics.ts';
import type { ActionEnvironment } from './plugins/define-action.ts';
import { openQueue } from './queue/open-queue.ts';
import { Registry } from './registry/registry.ts';
import { DecryptError } from './secrets/crypto.ts';
import { type SecretSource, secretSource } from './secrets/source.ts';
import { SecretVault } from './secrets/vault.ts';
import { openStore, type Store } from './store/db.ts';
import { versionIdFor } from './store/versions.ts';
import { type Pollers, startPollers } from './triggers/poller.ts';
import { type Scheduler, startScheduler } from './triggers/scheduler.ts';
import { uuidv7 } from './util/ids.ts';
import { startReconciler } from './worker/reconciler.ts';
import { Worker } from './worker/worker.ts';
import type { Workflow } from './workflow/types.ts';

export type Log = (level: 'info' | 'warn' | 'error', message: string) => void;

export interface RuntimeOptions {
  /** Run workers in this process (serve without Redis, or `baton worker`). */
  workers: boolean;
  /** Re-enqueue runs Postgres holds without a live lease (serve). */
  reconciler: boolean;
  /** Follow the workflow and action folders as they change (serve). */
  watch: boolean;
  concurrency?: number;
  /** Fire schedules and run pollers (serve). */
  triggers?: boolean;
}

/** Store, queue, registry, metrics and (optionally) workers and reconciler, wired from config. */
export interface Runtime extends ApiDeps {
  store: Store;
  vault: SecretVault;
  secretSource: SecretSource;
  connections: Connections;
  registry: Registry;
  logger: Logger;
  metrics: ReturnType<typeof createMetrics>;
  worker?: Worker;
  scheduler?: Scheduler;
  pollers?: Pollers;
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
  const logger = createLogger(config.logLevel);
  const log: Log = (level, message) => logger[level](message);
  // A mistake in the providers stops the start before anything is opened.
  const providers = loadProviders(process.env, config.oauthFile);
  const store = openStore({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    prepare: config.dbPrepare,
  });
  await store.migrate();
  const vault = new SecretVault(store.db, config.masterKey);
  try {
    const { unreadable } = await vault.check();
    if (unreadable > 0) {
      log(
        'warn',
        `${unreadable} secret(s) in the store cannot be read without BATON_MASTER_KEY; only BATON_SECRET_<NAME> apply`,
      );
    }
  } catch (err) {
    await store.close();
    throw err instanceof DecryptError ? new ConfigError(err.message, { cause: err }) : err;
  }
  const secrets = secretSource(vault);
  const connections = new Connections({
    db: store.db,
    vault,
    secrets,
    providers,
    publicUrl: config.publicUrl,
    refreshMarginMs: config.oauthRefreshMarginMs,
  });
  const queue = openQueue({ redisUrl: config.redisUrl, prefix: config.queuePrefix });
  const metrics = createMetrics({ db: store.db, queue, logger });

  // Git sync: the checkout is brought up to date before the first load, so it serves the tip.
  let registry: Registry | undefined;
  const gitSync =
    config.git && options.watch
      ? new GitSync({
          remote: config.git.remote,
          branch: config.git.branch,
          dir: config.git.dir,
          log,
          onCommit: () => registry?.refresh(),
        })
      : undefined;
  if (gitSync) await gitSync.tick();
  if (config.git) {
    mkdirSync(config.workflowsDir, { recursive: true });
    mkdirSync(config.actionsDir, { recursive: true });
  }

  registry = await Registry.open({
    workflowsDir: config.workflowsDir,
    actionsDirs: [config.actionsDir],
    watch: options.watch,
    log,
    // Every distinct content becomes a version row as soon as it is loaded, not only when it runs.
    onVersion: async (workflow) => {
      await versionIdFor(store.db, workflow, {
        text: workflow.source.text,
        path: workflow.source.file,
        // The commit where this content first appeared: a (name, hash) keeps its first row.
        ...(gitSync?.commit() ? { gitCommit: gitSync.commit() as string } : {}),
      }).catch((err) =>
        log('warn', `could not record version of ${workflow.name}: ${(err as Error).message}`),
      );
    },
  });

  if (gitSync && config.git) gitSync.startInterval(config.git.intervalMs);

  const deps = {
    db: store.db,
    queue,
    onEnqueueError: (runId: string, err: unknown) =>
      log(
        'warn',
        `run ${runId} is saved but not yet queued (${(err as Error).message}); the reconciler will queue it`,
      ),
  };

  let worker: Worker | undefined;
  if (options.workers) {
    worker = new Worker({
      db: store.db,
      queue,
      actions: () => registry.catalogue().actions,
      env: actionEnvironment(config),
      secrets: () => secrets.all(),
      connections,
      concurrency: options.concurrency ?? config.workerConcurrency,
      leaseMs: config.leaseMs,
      events: metrics.sink,
      log,
    });
    worker.start();
  }
  const reconciler = options.reconciler
    ? startReconciler({
        db: store.db,
        queue,
        intervalMs: config.reconcileIntervalMs,
        graceMs: config.leaseMs * 2,
        onError: (err) => log('warn', `reconciler: ${(err as Error).message}`),
        onRequeue: (ids) => log('info', `reconciler re-queued ${ids.length} run(s)`),
      })
    : undefined;

  // Triggers start runs only for files that load now; a broken file keeps its last good definition
  // for runs in flight, but fires nothing until it is fixed (as the API refuses to start it).
  const startable = function* (): Iterable<Workflow> {
    const broken = new Set(
      registry
        .entries()
        .filter((e) => e.problems.length > 0)
        .map((e) => e.name),
    );
    for (const [name, workflow] of registry.workflows()) if (!broken.has(name)) yield workflow;
  };
  const triggerLog = (level: 'debug' | 'info' | 'warn' | 'error', message: string) => logger[level](message);
  const scheduler = options.triggers
    ? startScheduler({
        db: store.db,
        start: (request) => startRun(deps, request),
        workflows: startable,
        tickMs: config.schedulerTickMs,
        graceMs: config.scheduleGraceMs,
        log: triggerLog,
      })
    : undefined;
  const pollers = options.triggers
    ? startPollers({
        db: store.db,
        start: (request) => startRun(deps, request),
        workflows: startable,
        actions: () => registry.catalogue().actions,
        env: actionEnvironment(config),
        secrets: () => secrets.all(),
        connections,
        owner: `poller-${uuidv7()}`,
        leaseMs: config.pollLeaseMs,
        tickMs: config.pollTickMs,
        maxBackoffMs: config.pollMaxBackoffMs,
        log: triggerLog,
      })
    : undefined;

  return {
    config,
    db: store.db,
    store,
    vault,
    secretSource: secrets,
    connections,
    queue,
    registry,
    logger,
    metrics,
    worker,
    scheduler,
    pollers,
    gitSync,
    startRun(name: string, request: Omit<StartRunRequest, 'workflow'>) {
      const workflow = registry.workflows().get(name);
      if (!workflow) throw new NotFoundError(`no workflow named "${name}"`);
      const entry = registry.entries().find((e) => e.name === name);
      if (entry && entry.problems.length > 0) {
        const first = entry.problems[0];
        throw new ConflictError(
          `workflow "${name}" has ${entry.problems.length} problem(s) in its file and cannot start runs until they are fixed` +
            (first ? ` (line ${first.line}: ${first.message})` : ''),
          { details: { problems: entry.problems } },
        );
      }
      return startRun(deps, { ...request, workflow });
    },
    async close() {
      await gitSync?.stop();
      await scheduler?.stop();
      await pollers?.stop();
      await reconciler?.stop();
      await worker?.stop(config.shutdownGraceMs);
      await registry.stop();
      await queue.close();
      await store.close();
    },
  };
}
