import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inArray } from 'drizzle-orm';
import { startRun } from '../../src/engine/start-run.ts';
import { loadCatalogue } from '../../src/plugins/catalogue.ts';
import { RedisQueue } from '../../src/queue/redis-queue.ts';
import type { Store } from '../../src/store/db.ts';
import { runs, taskRuns } from '../../src/store/schema.ts';
import { loadWorkflowFile } from '../../src/workflow/loader.ts';
import type { Workflow } from '../../src/workflow/types.ts';
import { type CliProcess, REPO, startCli } from './cli.ts';
import { dropTestPrefix, REDIS_TEST_URL, testPrefix } from './redis.ts';

export const PIPELINE = join(REPO, 'test/fixtures/workflows/chaos/pipeline.yaml');

export async function loadPipeline(): Promise<Workflow> {
  const catalogue = await loadCatalogue();
  const { workflow, problems } = loadWorkflowFile(PIPELINE, { catalogue });
  if (!workflow) throw new Error(`fixture invalid: ${JSON.stringify(problems)}`);
  return workflow;
}

/** Worker processes on one test database and one Redis prefix, plus the test's own queue client. */
export function cluster(databaseUrl: string, options: { leaseMs?: number } = {}) {
  const prefix = testPrefix();
  const dir = mkdtempSync(join(tmpdir(), 'baton-cluster-'));
  const env = {
    DATABASE_URL: databaseUrl,
    REDIS_URL: REDIS_TEST_URL,
    BATON_QUEUE_PREFIX: prefix,
    BATON_LEASE_TTL: `${options.leaseMs ?? 2000}ms`,
    BATON_SHUTDOWN_GRACE: '2s',
    BATON_DATA_DIR: dir,
    BATON_FILES_DIR: join(dir, 'files'),
    NO_COLOR: '1',
  };
  const workers: CliProcess[] = [];
  const queue = RedisQueue.connect(REDIS_TEST_URL, prefix);
  return {
    prefix,
    dir,
    env,
    queue,
    workers,
    counter: join(dir, 'counter.log'),
    startWorker(concurrency = 10): CliProcess {
      const w = startCli(['worker', '--concurrency', String(concurrency)], env);
      workers.push(w);
      return w;
    },
    async start(store: Store, workflow: Workflow, inputs: Record<string, unknown>) {
      const { run } = await startRun({ db: store.db, queue }, { workflow, trigger: { type: 'api', inputs } });
      return run.id;
    },
    /** Lines "<run> <task>" written by the tasks' side effect, counted. */
    sideEffects(): Map<string, number> {
      const counts = new Map<string, number>();
      if (!existsSync(join(dir, 'counter.log'))) return counts;
      for (const line of readFileSync(join(dir, 'counter.log'), 'utf8').split('\n').filter(Boolean)) {
        counts.set(line, (counts.get(line) ?? 0) + 1);
      }
      return counts;
    },
    async stop() {
      for (const w of workers) w.signal('SIGKILL');
      await Promise.all(workers.map((w) => w.done.catch(() => undefined)));
      await queue.close();
      // After the workers: a worker's next claim re-creates a deleted stream with its group.
      await dropTestPrefix(prefix);
    },
  };
}

export async function runStatuses(store: Store, ids: string[]) {
  return store.db
    .select({ id: runs.id, status: runs.status, leaseOwner: runs.leaseOwner })
    .from(runs)
    .where(inArray(runs.id, ids));
}

export async function taskRows(store: Store, ids: string[]) {
  return store.db.select().from(taskRuns).where(inArray(taskRuns.runId, ids));
}
