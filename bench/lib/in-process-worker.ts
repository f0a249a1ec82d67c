/**
 * A diagnostic path for profiling: Baton's own Worker class in the bench process, on the bench
 * database, with a Postgres client that counts every statement it sends (postgres.js `debug`).
 * No HTTP, no Redis (an in-process queue), no second process: what is left is the executor plus
 * the store's writes, so the difference to the engine-only figure is the database's share.
 */
import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { startRun } from '../../src/engine/start-run.ts';
import type { AnyAction } from '../../src/plugins/define-action.ts';
import { MemoryQueue } from '../../src/queue/memory-queue.ts';
import type { Db } from '../../src/store/db.ts';
import { preparing } from '../../src/store/db.ts';
import * as schema from '../../src/store/schema.ts';
import { Worker } from '../../src/worker/worker.ts';
import type { Workflow } from '../../src/workflow/types.ts';
import { runTimes, waitForRun } from './runs.ts';

export interface StatementCounts {
  total: number;
  begin: number;
  commit: number;
  select: number;
  insert: number;
  update: number;
  other: number;
  /** Statements with parameters (prepared by the store's client: one round trip each once prepared). */
  parameterized: number;
  /** Transactions that committed: explicit ones plus statements sent outside a transaction. */
  transactions: number;
}

const emptyCounts = (): StatementCounts => ({
  total: 0,
  begin: 0,
  commit: 0,
  select: 0,
  insert: 0,
  update: 0,
  other: 0,
  parameterized: 0,
  transactions: 0,
});

/** What a `with … ` statement does in the end: its data-modifying verb, else select. */
function dataVerb(query: string): string {
  if (/\binsert\s+into\b/i.test(query)) return 'insert';
  if (/\bupdate\s+"?\w/i.test(query)) return 'update';
  if (/\bdelete\s+from\b/i.test(query)) return 'delete';
  return 'select';
}

export interface InProcessProfile {
  /** finished_at − created_at of each measured run, ms. */
  totals: number[];
  /** Statements the worker sent for one run (the median run by count). */
  perRun: StatementCounts;
}

/**
 * Runs `runs` runs (after one warm-up) one after another through an in-process Worker and
 * counts the worker's statements per run. `connection` sets Postgres parameters for the worker's
 * sessions (e.g. `{ synchronous_commit: 'off' }` as a diagnostic).
 */
export async function profileInProcess(options: {
  databaseUrl: string;
  /** Used to create runs and to poll them: its statements are not counted. */
  db: Db;
  workflow: Workflow;
  actions: ReadonlyMap<string, AnyAction>;
  runs: number;
  connection?: Record<string, string>;
}): Promise<InProcessProfile> {
  let counts = emptyCounts();
  const inTransaction = new Set<number>();
  const client = postgres(options.databaseUrl, {
    max: 4,
    onnotice: () => {},
    ...(options.connection ? { connection: options.connection } : {}),
    debug: (connection, query, parameters) => {
      counts.total++;
      if (parameters.length > 0) counts.parameterized++;
      const verb = query.trimStart().slice(0, 6).toLowerCase();
      if (verb.startsWith('begin')) {
        counts.begin++;
        inTransaction.add(connection);
        return;
      }
      if (verb.startsWith('commit') || verb.startsWith('rollba')) {
        if (verb.startsWith('commit')) counts.commit++;
        else counts.other++;
        inTransaction.delete(connection);
        counts.transactions++;
        return;
      }
      if (!inTransaction.has(connection)) counts.transactions++;
      const kind = verb === 'with l' || verb.startsWith('with') ? dataVerb(query) : verb;
      if (kind === 'select') counts.select++;
      else if (kind === 'insert') counts.insert++;
      else if (kind === 'update') counts.update++;
      else counts.other++;
    },
  });
  // The same client wrapper as the store's: parameterized statements are prepared.
  const db = drizzle(preparing(client), { schema }) as unknown as Db;
  const queue = new MemoryQueue();
  const worker = new Worker({
    db,
    queue,
    actions: () => options.actions,
    env: { filesDir: '/tmp', httpAllow: [], outputLimitBytes: 256 * 1024 },
    secrets: () => ({}),
    concurrency: 1,
    leaseMs: 5000,
    blockMs: 100,
  });
  worker.start();
  const totals: number[] = [];
  const perRun: StatementCounts[] = [];
  try {
    for (let i = 0; i <= options.runs; i++) {
      counts = emptyCounts();
      const { run } = await startRun(
        { db: options.db, queue },
        { workflow: options.workflow, trigger: { type: 'api', inputs: {} } },
      );
      await waitForRun(options.db, run.id, 30_000);
      // Let the worker's last statements (the queue ack is in memory; nothing else follows) land.
      await new Promise((r) => setTimeout(r, 20));
      if (i === 0) continue; // warm-up
      totals.push((await runTimes(options.db, run.id)).totalMs);
      perRun.push(counts);
    }
  } finally {
    await worker.stop(2000);
    await queue.close();
    await client.end({ timeout: 5 });
  }
  perRun.sort((a, b) => a.total - b.total);
  return { totals, perRun: perRun[Math.floor(perRun.length / 2)] ?? emptyCounts() };
}
