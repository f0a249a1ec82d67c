/**
 * Scenario 3, per-task overhead (the method Windmill uses to compare engines): a workflow of 40
 * sequential no-op tasks, run one after another through 1 `serve` + 1 `worker` on Postgres and
 * Redis. Each run is triggered with POST /api/workflows/chain/runs; its time is taken from its own
 * row (finished_at − created_at, computed by Postgres), so polling adds nothing to the figure.
 *
 * Baseline in the same run: the same 40-step chain executed by the executor in this process with
 * no database (MemorySink). Diagnostic rows in between (Baton's Worker in this process, with a
 * statement-counting Postgres client) split the time between the database and the rest.
 *
 *   bun bench/run.ts --only chain
 */
import postgres from 'postgres';
import { loadCatalogue } from '../../src/plugins/catalogue.ts';
import { openBench } from '../lib/cluster.ts';
import { below, info, type ScenarioResult } from '../lib/goals.ts';
import { profileInProcess, type StatementCounts } from '../lib/in-process-worker.ts';
import { measureWriteCosts } from '../lib/pg-costs.ts';
import { type RunTimes, runTimes, triggerRun, waitForRun } from '../lib/runs.ts';
import { fmt, median, percentile, table } from '../lib/stats.ts';
import { executeInProcess, timeRounds, workflowFromText } from './engine.ts';

export interface ChainOptions {
  /** Measured runs, one after another, after one warm-up (default 20). */
  runs?: number;
  /** Tasks in the chain (default 40). */
  tasks?: number;
  /** Also profile with Baton's Worker in this process (default true). */
  profile?: boolean;
}

export const GOAL_MS_PER_TASK = 3;

export function chainYaml(tasks: number): string {
  const steps = Array.from({ length: tasks }, () => '  - action: transform\n    inputs: { template: 1 }\n');
  return `name: chain\ndescription: ${tasks} sequential no-op tasks\nsteps:\n${steps.join('')}`;
}

export async function chain(options: ChainOptions = {}): Promise<ScenarioResult> {
  const runs = options.runs ?? 20;
  const tasks = options.tasks ?? 40;
  const yaml = chainYaml(tasks);
  const workflow = workflowFromText('chain', yaml);
  const { actions } = await loadCatalogue();

  // Baseline: the executor alone, same workflow, same action, same process count of runs.
  const engineOnly = median(await timeRounds(() => executeInProcess(workflow, actions), runs));

  const bench = await openBench({ 'chain.yaml': yaml });
  try {
    let direct: Awaited<ReturnType<typeof profileInProcess>> | undefined;
    let noSync: typeof direct;
    if (options.profile ?? true) {
      direct = await profileInProcess({
        databaseUrl: bench.databaseUrl,
        db: bench.store.db,
        workflow,
        actions,
        runs,
      });
      noSync = await profileInProcess({
        databaseUrl: bench.databaseUrl,
        db: bench.store.db,
        workflow,
        actions,
        runs,
        connection: { synchronous_commit: 'off' },
      });
    }

    const floorClient = postgres(bench.databaseUrl, { max: 1, onnotice: () => {} });
    const floor = median(await timeRounds(await commitFloor(floorClient, tasks), runs));
    await floorClient.end();

    const costs = options.profile === false ? [] : await measureWriteCosts(bench.databaseUrl, workflow);

    const { url } = await bench.serve();
    bench.worker(10);
    const measured: RunTimes[] = [];
    const posts: number[] = [];
    for (let i = 0; i <= runs; i++) {
      const t = performance.now();
      const id = await triggerRun(url, 'chain');
      posts.push(performance.now() - t);
      // The warm-up also waits for the worker process to start.
      await waitForRun(bench.store.db, id, i === 0 ? 60_000 : 30_000);
      if (i > 0) measured.push(await runTimes(bench.store.db, id));
    }
    posts.shift();

    const total = median(measured.map((m) => m.totalMs));
    const perTask = total / tasks;
    const row = (name: string, ms: number, extra = ''): (string | number)[] => [
      name,
      ms,
      fmt(ms / tasks, 2),
      `${fmt(ms / engineOnly)}x`,
      extra,
    ];
    const rows: (string | number)[][] = [row('engine only: executor + MemorySink (baseline)', engineOnly)];
    rows.push(row('floor: 1 durable INSERT per task, one after another', floor, '1 round trip + 1 commit'));
    if (direct && noSync) {
      rows.push(row('Worker in this process on Postgres, no HTTP/Redis', median(direct.totals)));
      rows.push(
        row('  same, synchronous_commit=off (diagnostic only)', median(noSync.totals), 'commits not flushed'),
      );
    }
    rows.push(
      row(
        'serve + worker processes: created → finished',
        total,
        `p90 ${fmt(
          percentile(
            measured.map((m) => m.totalMs),
            90,
          ),
        )} ms`,
      ),
    );
    rows.push(
      ['  of which: pickup (created → claimed)', median(measured.map((m) => m.pickupMs)), '', '', ''],
      [
        '  of which: execution (claimed → finished)',
        median(measured.map((m) => m.executionMs)),
        fmt(median(measured.map((m) => m.executionMs)) / tasks, 2),
        '',
        '',
      ],
    );
    table(
      `Chain: ${tasks} sequential no-op tasks (transform), ${runs} runs one after another, p50`,
      ['path', 'total ms', 'ms per task', 'vs engine only', 'note'],
      rows,
    );
    console.log(`POST /api/workflows/chain/runs answered in ${fmt(median(posts), 2)} ms (p50)`);
    if (direct) printStatements(direct.perRun, tasks);
    if (costs.length > 0)
      table(
        'Chain: what one write costs here (one connection, median µs)',
        ['write', 'µs', 'round trips'],
        costs.map((c) => [c.what, c.us, c.roundTrips]),
      );

    return {
      goals: [
        below(`chain: ms per task, ${tasks} sequential tasks (p50)`, perTask, GOAL_MS_PER_TASK, 'ms', 2),
        info('chain: total per run (p50)', `${fmt(total)} ms (engine only ${fmt(engineOnly, 2)} ms)`),
      ],
    };
  } finally {
    await bench.close();
  }
}

/**
 * The least a durable checkpoint per task can cost here: `tasks` autocommit INSERTs in a row, each
 * one round trip and one flushed commit. A design with one write per task lands near this line.
 */
async function commitFloor(sql: postgres.Sql, tasks: number): Promise<() => Promise<void>> {
  await sql`create table if not exists bench_floor (id bigserial primary key, run text, task int, output jsonb)`;
  return async () => {
    const run = crypto.randomUUID();
    for (let i = 0; i < tasks; i++)
      await sql`insert into bench_floor (run, task, output) values (${run}, ${i}, ${sql.json({ result: 1 })})`;
  };
}

function printStatements(c: StatementCounts, tasks: number): void {
  table(
    `Chain: what one run costs the worker in Postgres (counted on the worker's client, median run)`,
    ['statements', 'per run', 'per task'],
    [
      ['statements (begin/commit included)', c.total, fmt(c.total / tasks, 2)],
      ['round trips (statements are prepared: one each)', c.total, fmt(c.total / tasks, 2)],
      ['  begin / commit', `${c.begin} / ${c.commit}`, ''],
      ['  select', c.select, fmt(c.select / tasks, 2)],
      ['  insert', c.insert, fmt(c.insert / tasks, 2)],
      ['  update', c.update, fmt(c.update / tasks, 2)],
      ['  other', c.other, ''],
      ['transactions committed (explicit + autocommit)', c.transactions, fmt(c.transactions / tasks, 2)],
    ],
  );
}
