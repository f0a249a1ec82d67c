/**
 * Baton's benchmarks (issue 5): every scenario in sequence, each on a fresh database and Redis
 * prefix with Baton's real processes, one table per scenario as it goes, then every goal with
 * the figure measured, and the time each scenario took. Method: bench/README.md.
 *
 *   npm run bench                       # everything (under 10 minutes on 2 cores)
 *   bun bench/run.ts --quick            # smaller counts: a smoke run of the harness
 *   bun bench/run.ts --only chain,crash # some scenarios: engine, chain, crash, ingest, throughput, pages
 */
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import Redis from 'ioredis';
import postgres from 'postgres';
import { ADMIN_URL, REDIS_URL } from './lib/cluster.ts';
import type { Goal } from './lib/goals.ts';
import { table } from './lib/stats.ts';
import { chain } from './scenarios/chain.ts';
import { crash } from './scenarios/crash.ts';
import { engine } from './scenarios/engine.ts';
import { pages } from './scenarios/pages.ts';

const { values } = parseArgs({
  options: { only: { type: 'string' }, quick: { type: 'boolean', default: false } },
});
const quick = values.quick ?? false;

interface Scenario {
  name: string;
  title: string;
  run: () => Promise<unknown>;
  /** The goals this scenario answers: listed as missing when it cannot run. */
  goals: string[];
}

/** A scenario module another file provides; missing or broken, the runner says so and goes on. */
async function external(file: string, exportName: string): Promise<(options: object) => Promise<unknown>> {
  const path = `./scenarios/${file}`;
  let mod: Record<string, unknown>;
  try {
    mod = (await import(path)) as Record<string, unknown>;
  } catch (err) {
    throw new MissingScenario(`bench/scenarios/${file} could not be loaded: ${(err as Error).message}`);
  }
  const fn = mod[exportName];
  if (typeof fn !== 'function')
    throw new MissingScenario(`bench/scenarios/${file} exports no ${exportName}()`);
  return fn as (options: object) => Promise<unknown>;
}

class MissingScenario extends Error {}

const scenarios: Scenario[] = [
  {
    name: 'engine',
    title: 'engine only: executor overhead in process',
    run: () => engine(quick ? { rounds: 5 } : {}),
    goals: [],
  },
  {
    name: 'chain',
    title: '3. per-task overhead: 40-task chain',
    run: () => chain(quick ? { runs: 5 } : {}),
    goals: ['chain: ms per task (< 3 ms)'],
  },
  {
    name: 'crash',
    title: '5. crash recovery: kill -9 of a worker holding 50 runs',
    run: () => crash(quick ? { leaseTtls: [undefined] } : {}),
    goals: ['crash: recovery (< 5 s)'],
  },
  {
    name: 'ingest',
    title: '1 + 4. webhook ingest and trigger-to-first-task latency',
    run: async () =>
      (await external('ingest.ts', 'ingest'))(
        quick ? { rates: [500, 1000], seconds: 3, warmupSeconds: 2, latencySeconds: 3 } : {},
      ),
    goals: [
      'ingest: p99 at 2,000 req/s (< 5 ms)',
      'ingest: 5,000 req/s sustained with p99 < 10 ms',
      'trigger-to-first-task p50/p99 at half the sustainable load',
    ],
  },
  {
    name: 'throughput',
    title: '2 + 6. end-to-end throughput vs BullMQ, memory',
    run: async () =>
      (await external('throughput.ts', 'throughput'))(
        quick ? { runs: 1000, warmup: 1000, memoryRuns: 2000 } : {},
      ),
    goals: ['throughput: 3-task runs/s ≥ BullMQ flows/s', 'memory: no growth beyond noise over 50,000 runs'],
  },
  {
    name: 'pages',
    title: 'issue 7: server render time of the runs and run pages',
    run: () => pages(quick ? { samples: 50, runs: 500 } : {}),
    goals: ['pages: runs page of 50 rows (p99)', 'pages: run page of 50 tasks (p99)'],
  },
];

const only = values.only?.split(',').map((s) => s.trim());
const unknown = only?.filter((n) => !scenarios.some((s) => s.name === n)) ?? [];
if (unknown.length > 0) {
  console.error(
    `unknown scenario ${unknown.join(', ')}; choose from ${scenarios.map((s) => s.name).join(', ')}`,
  );
  process.exit(2);
}
const chosen = only ? scenarios.filter((s) => only.includes(s.name)) : scenarios;

await printMachine();
const summary: Goal[] = [];
const timings: (string | number)[][] = [];
let failures = 0;
const startedAll = performance.now();
for (const scenario of chosen) {
  console.log(`\n=== ${scenario.name}: ${scenario.title}${quick ? ' (quick)' : ''} ===`);
  warnIfBusy();
  const started = performance.now();
  let outcome = 'ok';
  try {
    const result = await scenario.run();
    const goals = goalsOf(result);
    if (goals) summary.push(...goals);
    else summary.push(...scenario.goals.map((g) => row(g, 'see its table above', undefined)));
  } catch (err) {
    const missing = err instanceof MissingScenario;
    outcome = missing ? 'missing' : 'failed';
    if (!missing) failures++;
    console.error(`${scenario.name} ${outcome}: ${missing ? (err as Error).message : (err as Error).stack}`);
    for (const g of scenario.goals) summary.push(row(g, `not measured (${outcome})`, false));
  } finally {
    killStrayChildren();
  }
  const seconds = (performance.now() - started) / 1000;
  timings.push([scenario.name, outcome, `${seconds.toFixed(1)} s`]);
  console.log(`--- ${scenario.name}: ${outcome} in ${seconds.toFixed(1)} s`);
}

table(
  'Summary: goals of issue 5',
  ['goal', 'measured', 'target', 'result'],
  summary.map((g) => [g.name, g.measured, g.goal, g.met === undefined ? '' : g.met ? 'met' : 'MISSED']),
);
timings.push(['total', '', `${((performance.now() - startedAll) / 1000).toFixed(1)} s`]);
table('Wall time per scenario', ['scenario', 'outcome', 'time'], timings);
process.exit(failures > 0 ? 1 : 0);

function row(name: string, measured: string, met: boolean | undefined): Goal {
  return { name, measured, goal: '', met };
}

function goalsOf(result: unknown): Goal[] | undefined {
  const r = result as
    | { goals?: unknown; latency?: { p50?: number; p99?: number; rate?: number } }
    | undefined;
  if (!Array.isArray(r?.goals)) return throughputGoals(result);
  const out: Goal[] = [];
  for (const g of r.goals as Record<string, unknown>[]) {
    if (typeof g?.name === 'string' && typeof g.measured === 'string') out.push(g as unknown as Goal);
    // ingest.ts reports { goal, figure, met: boolean | null }.
    else if (typeof g?.goal === 'string' && typeof g.figure === 'string')
      out.push({
        name: g.goal,
        measured: g.figure,
        goal: '',
        met: typeof g.met === 'boolean' ? g.met : undefined,
      });
  }
  const l = r.latency;
  if (typeof l?.p50 === 'number' && typeof l.p99 === 'number')
    out.push({
      name: `trigger-to-first-task at ${l.rate ?? '?'} req/s (p50 / p99)`,
      measured: `${l.p50.toFixed(1)} / ${l.p99.toFixed(1)} ms`,
      goal: '—',
      met: undefined,
    });
  return out;
}

/** The shape throughput.ts returns (ThroughputResult), read defensively: it has no `goals` list. */
function throughputGoals(result: unknown): Goal[] | undefined {
  const r = result as {
    baton?: { runsPerSec?: number };
    bullmq?: { flowsPerSec?: number };
    ratio?: number;
    goalMet?: boolean;
    memory?: { growthPer10k?: { serve?: number; workers?: number[] }; goalMet?: boolean };
  };
  if (typeof r?.baton?.runsPerSec !== 'number') return undefined;
  const n = (x: number | undefined, d = 1) => (typeof x === 'number' ? x.toFixed(d) : '?');
  const out: Goal[] = [
    {
      name: 'throughput: 3-task runs/s vs BullMQ flows/s',
      measured: `${n(r.baton.runsPerSec, 0)} vs ${n(r.bullmq?.flowsPerSec, 0)} (${n(r.ratio, 2)}x)`,
      goal: '≥ 1.0x',
      met: r.goalMet,
    },
  ];
  if (r.memory?.growthPer10k) {
    const g = r.memory.growthPer10k;
    out.push({
      name: 'memory: RSS growth per 10k runs',
      measured: `serve ${n(g.serve)} MiB, workers ${(g.workers ?? []).map((w) => n(w)).join(' / ')} MiB`,
      goal: 'noise only',
      met: r.memory.goalMet,
    });
  }
  return out;
}

/**
 * Another Baton or benchmark on this machine (2 cores) skews every figure: say so before a scenario
 * starts. Processes this runner started are not counted.
 */
function warnIfBusy(): void {
  const others: string[] = [];
  const ancestors = new Set<number>();
  for (let p = process.ppid, hops = 0; p > 1 && hops < 20; hops++) {
    ancestors.add(p);
    p = parentOf(p);
  }
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
      if (!/src\/cli\.ts (serve|worker)|bench\/|vitest/.test(cmd) || /^(grep|ps|pgrep) /.test(cmd)) continue;
      if (descendsFromUs(pid) || ancestors.has(pid)) continue;
      others.push(`${pid} ${cmd.slice(0, 100)}`);
    } catch {
      // exited meanwhile
    }
  }
  if (others.length > 0)
    console.warn(
      `WARNING: other Baton/bench processes are running; figures will be skewed:\n  ${others.join('\n  ')}`,
    );
}

function descendsFromUs(pid: number): boolean {
  for (let p = pid, hops = 0; p > 1 && hops < 20; hops++) {
    if (p === process.pid) return true;
    p = parentOf(p);
  }
  return false;
}

function parentOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return 0;
  }
}

/** Safety net after each scenario: any process this runner started and that is still alive. */
function killStrayChildren(): void {
  let pids: number[] = [];
  try {
    for (const task of readdirSync(`/proc/${process.pid}/task`)) {
      const text = readFileSync(`/proc/${process.pid}/task/${task}/children`, 'utf8').trim();
      if (text) pids.push(...text.split(/\s+/).map(Number));
    }
  } catch {
    pids = [];
  }
  for (const pid of new Set(pids)) {
    try {
      process.kill(pid, 'SIGKILL');
      console.error(`killed leftover child process ${pid}`);
    } catch {
      // gone already
    }
  }
}

async function printMachine(): Promise<void> {
  const pg = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, lazyConnect: true });
  try {
    const [v] =
      await pg`select version() as v, current_setting('synchronous_commit') as sc, current_setting('shared_buffers') as sb`;
    await redis.connect();
    const redisInfo = await redis.info('server');
    const redisVersion = /redis_version:(\S+)/.exec(redisInfo)?.[1] ?? '?';
    const cpu = cpus();
    console.log(
      `machine: ${cpu.length} × ${cpu[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB; ` +
        `Bun ${Bun.version}; ${String(v?.v).split(' on ')[0]} (synchronous_commit=${v?.sc}, shared_buffers=${v?.sb}); ` +
        `Redis ${redisVersion}`,
    );
  } catch (err) {
    console.error(
      `Postgres (${ADMIN_URL}) and Redis (${REDIS_URL}) must be running: ${(err as Error).message}`,
    );
    process.exit(2);
  } finally {
    await pg.end();
    redis.disconnect();
  }
}
