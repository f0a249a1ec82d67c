/**
 * Server-side render time of the pages (issue 7): a runs page of 50 rows and the page of a run
 * with 50 tasks, through `app.request()` of the real app (auth, headers, queries, JSX), on a
 * fresh Postgres database holding 2,000 runs. No browser and no network: what the server adds.
 *
 *   bun bench/scenarios/pages.ts          # alone
 *   bun bench/run.ts --only pages         # through the runner
 */
import { eq } from 'drizzle-orm';
import { loadConfig } from '../../src/config.ts';
import { openRuntime } from '../../src/runtime.ts';
import { createApp } from '../../src/server.ts';
import { createRun } from '../../src/store/runs.ts';
import { runs, taskLogs, taskRuns } from '../../src/store/schema.ts';
import { upsertVersion } from '../../src/store/versions.ts';
import { uuidv7 } from '../../src/util/ids.ts';
import { clearLayoutCache } from '../../views/graph-layout.ts';
import { openBench } from '../lib/cluster.ts';
import { below, info, type ScenarioResult } from '../lib/goals.ts';
import { percentile, table } from '../lib/stats.ts';

export interface PagesOptions {
  /** Timed requests per page after the warm-up (default 200). */
  samples?: number;
  /** Runs in the database besides the 50-task one (default 2000). */
  runs?: number;
}

const TASKS = 50;
const STATUSES = ['succeeded', 'succeeded', 'succeeded', 'failed', 'running', 'cancelled'];

/** 50 tasks, 5 wide: each depends on one task of the level before. */
function wideWorkflow(): string {
  const lines = ['name: wide', 'description: fifty tasks', 'on:', '  manual:', 'tasks:'];
  for (let i = 0; i < TASKS; i++) {
    lines.push(`  t${i}:`, '    action: log', `    inputs: { message: "task ${i}" }`);
    if (i >= 5) lines.push(`    depends_on: [t${i - 5}]`);
  }
  return `${lines.join('\n')}\n`;
}

export async function pages(options: PagesOptions = {}): Promise<ScenarioResult> {
  const samples = options.samples ?? 200;
  const otherRuns = options.runs ?? 2000;
  const bench = await openBench({ 'wide.yaml': wideWorkflow() });
  const { REDIS_URL: _, ...env } = bench.env;
  const runtime = await openRuntime(loadConfig(env, bench.dir), {
    workers: false,
    reconciler: false,
    watch: false,
  });
  try {
    const app = createApp(runtime);
    const db = runtime.db;
    const workflow = runtime.registry.workflows().get('wide');
    if (!workflow) throw new Error('bench workflow "wide" did not load');
    const version = await upsertVersion(db, workflow, { text: workflow.source.text, path: 'wide.yaml' });

    // Many finished and some running runs, so the list query and live rows are realistic.
    const now = Date.now();
    for (let start = 0; start < otherRuns; start += 500) {
      const batch = Array.from({ length: Math.min(500, otherRuns - start) }, (_, j) => {
        const i = start + j;
        const created = new Date(now - i * 30_000);
        const status = STATUSES[i % STATUSES.length] as string;
        return {
          id: uuidv7(created.getTime()),
          workflow: 'wide',
          versionId: version.id,
          status,
          triggerType: i % 3 === 0 ? 'webhook' : 'manual',
          trigger: { type: 'manual', inputs: { n: i } },
          createdAt: created,
          startedAt: created,
          finishedAt: status === 'running' ? null : new Date(created.getTime() + 4000),
        };
      });
      await db.insert(runs).values(batch);
    }

    // The run to show: 50 tasks, each with input, output and four log lines.
    const { run } = await createRun(db, {
      workflow: 'wide',
      versionId: version.id,
      triggerType: 'manual',
      trigger: { type: 'manual', inputs: {} },
    });
    const started = new Date(now - 10_000);
    await db.update(runs).set({ status: 'running', startedAt: started }).where(eq(runs.id, run.id));
    await db.insert(taskRuns).values(
      Array.from({ length: TASKS }, (_, i) => ({
        runId: run.id,
        taskId: `t${i}`,
        attempt: 1,
        action: 'log',
        status: i < 45 ? 'succeeded' : 'running',
        input: { message: `task ${i}`, level: 'info', context: { index: i, tags: ['a', 'b', 'c'] } },
        output: i < 45 ? { message: `task ${i}`, details: { rows: i * 3, ok: true } } : null,
        startedAt: new Date(started.getTime() + i * 150),
        finishedAt: i < 45 ? new Date(started.getTime() + i * 150 + 120) : null,
        durationMs: i < 45 ? 120 : null,
      })),
    );
    await db.insert(taskLogs).values(
      Array.from({ length: TASKS * 4 }, (_, k) => ({
        runId: run.id,
        taskId: `t${Math.floor(k / 4)}`,
        attempt: 1,
        at: new Date(started.getTime() + k * 40),
        level: 'info',
        stream: 'stdout',
        message: `line ${k % 4} of task ${Math.floor(k / 4)}: processed a batch of records`,
      })),
    );

    const pagesToTime: [string, string, (() => void)?][] = [
      ['runs page, 50 rows (/runs)', '/runs'],
      ['run page, 50 tasks (/runs/:id)', `/runs/${run.id}`],
      ['run page, 50 tasks, graph not yet laid out', `/runs/${run.id}?cold`, clearLayoutCache],
      ['run live fragment, polled every second', `/runs/${run.id}/live`],
      ['overview (/)', '/'],
    ];
    const rows: (string | number)[][] = [];
    const p99 = new Map<string, number>();
    for (const [label, path, before] of pagesToTime) {
      const time = async () => {
        before?.();
        const t = performance.now();
        const res = await app.request(path, { headers: { Accept: 'text/html' } });
        const body = await res.text();
        if (res.status !== 200) throw new Error(`${path} answered ${res.status}: ${body.slice(0, 300)}`);
        return { ms: performance.now() - t, bytes: body.length };
      };
      for (let w = 0; w < 20; w++) await time();
      const times: number[] = [];
      let bytes = 0;
      for (let s = 0; s < samples; s++) {
        const r = await time();
        times.push(r.ms);
        bytes = r.bytes;
      }
      p99.set(path, percentile(times, 99));
      rows.push([label, percentile(times, 50), percentile(times, 99), `${Math.round(bytes / 1024)} KiB`]);
    }
    table(
      `Pages: server render time through app.request(), ${samples} requests each, ${otherRuns + 1} runs in the database`,
      ['page', 'p50 ms', 'p99 ms', 'size'],
      rows,
    );
    return {
      goals: [
        below('pages: runs page of 50 rows (p99)', p99.get('/runs') ?? Number.NaN, 50, 'ms'),
        below('pages: run page of 50 tasks (p99)', p99.get(`/runs/${run.id}`) ?? Number.NaN, 50, 'ms'),
        info(
          'pages: run page of 50 tasks, graph not cached (p99)',
          `${(p99.get(`/runs/${run.id}?cold`) ?? 0).toFixed(1)} ms`,
        ),
        info('pages: run live fragment (p99)', `${(p99.get(`/runs/${run.id}/live`) ?? 0).toFixed(1)} ms`),
      ],
    };
  } finally {
    await runtime.close();
    await bench.close();
  }
}

if (import.meta.main) {
  const { goals } = await pages();
  for (const g of goals)
    console.log(`${g.name}: ${g.measured} (${g.goal})${g.met === false ? ' MISSED' : ''}`);
  process.exit(0);
}
