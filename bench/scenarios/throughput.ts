/**
 * Issue 5, scenarios 2 and 6: end-to-end throughput of a 3-task DAG through 1 `serve` and 2
 * `worker` processes with full history in Postgres, against BullMQ flows of the same shape on the
 * same Redis; then the RSS of those processes as the run count grows.
 *
 *   bun bench/scenarios/throughput.ts [--runs 20000] [--warmup 10000] [--memory-runs 50000] [--concurrency 50] [--in-flight 64]
 *
 * Order: the BullMQ baseline (its own warm-up, then `runs` timed flows; its keys are deleted), then
 * Baton on a fresh database: warm-up, `runs` timed runs, then more runs until `memoryRuns` in all,
 * sampling RSS every 5,000 (growth is quoted per 10,000); then the BullMQ baseline again. Baton is
 * held against the mean of the two baseline runs, which brackets it: on this shared 2-core VM the
 * same BullMQ run moved by ±20% between minutes. Baton runs/s = runs / (last finished_at − first POST).
 */
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { bullmqBaseline } from '../lib/bullmq-baseline.ts';
import { openBench, REDIS_URL, rssMiB, waitUntil } from '../lib/cluster.ts';
import { fmt, percentile } from '../lib/stats.ts';
import { cpuMeter, cpuSeconds, cpuSecondsByName, jitMeter } from '../lib/throughput-cpu.ts';
import { linearFit, makeDriver, verify, waitForRuns } from '../lib/throughput-parts.ts';
import { printThroughput } from '../lib/throughput-report.ts';

const WORKFLOW = 'tp3';
const WORKFLOW_YAML = `# Scenario 2: A, then B and C after A; every task a no-op.
on:
  manual:
tasks:
  a: { action: transform, inputs: { template: 1 } }
  b: { action: transform, depends_on: [a], inputs: { template: 1 } }
  c: { action: transform, depends_on: [a], inputs: { template: 1 } }
`;
const WORKERS = 2;
/**
 * Runs (and BullMQ flows) before the timed phase. After 1,000 the JIT was still compiling: its
 * threads used 30% of serve's and the workers' CPU through the whole 20,000-run timed phase.
 */
const WARMUP = 10_000;
/** RSS is sampled every SAMPLE_STEP runs (finer than the 10k the growth is quoted per: RSS is noisy). */
const SAMPLE_STEP = 5000;
const PER = 10_000;
const POLL_MS = 500;

export interface ThroughputOptions {
  runs?: number;
  memoryRuns?: number;
  /** Runs per Baton worker process, and jobs per BullMQ worker process. */
  concurrency?: number;
  /** Triggers (or flow adds) outstanding at once. */
  inFlight?: number;
  /** Runs (and BullMQ flows) before the timed phase (default WARMUP). */
  warmup?: number;
  /** Skip the BullMQ baseline (for profiling Baton alone). */
  skipBaseline?: boolean;
}

export interface MemorySample {
  runs: number;
  /** Taken while runs were in flight (a 5k mark inside a phase), not after the phase drained. */
  underLoad: boolean;
  serve: number;
  workers: number[];
}

export interface ThroughputResult {
  runs: number;
  warmup: number;
  concurrency: number;
  inFlight: number;
  baton: {
    runsPerSec: number;
    seconds: number;
    /** When the last trigger was answered, seconds after the first was sent. */
    triggersSeconds: number;
    triggerP50Ms: number;
    triggerP99Ms: number;
    /** CPU seconds per 1,000 runs of the timed phase, by process group. */
    cpuPer1000: Record<string, number>;
    /** Of serve's and the workers' CPU in the timed phase, the share their JIT compiler threads used. */
    jitShare: number;
  };
  /** The mean of the baseline runs before and after Baton, and each of them. */
  bullmq?: {
    flowsPerSec: number;
    seconds: number;
    cpuPer1000: Record<string, number>;
    jitShare: number;
    runs: { flowsPerSec: number; seconds: number }[];
  };
  ratio?: number;
  goalMet?: boolean;
  memory: {
    samples: MemorySample[];
    /** The growth is fitted over the drained samples from this run count on. */
    steadyFrom: number;
    /** Least-squares slope of RSS over run count, MiB per 10,000 runs. */
    growthPer10k: {
      serve: number;
      workers: number[] /** Standard errors: serve, then workers. */;
      stderr: number[];
    };
    goalMet: boolean;
    seconds: number;
  };
  wallSeconds: number;
}

export async function throughput(options: ThroughputOptions = {}): Promise<ThroughputResult> {
  const runs = options.runs ?? 20_000;
  const warmup = options.warmup ?? WARMUP;
  const memoryRuns = Math.max(options.memoryRuns ?? 50_000, warmup + runs);
  const concurrency = options.concurrency ?? 50;
  const inFlight = options.inFlight ?? 64;
  const wallStart = performance.now();

  const baseline = () =>
    bullmqBaseline({ redisUrl: REDIS_URL, workers: WORKERS, concurrency, runs, warmup, inFlight });
  const bullBefore = options.skipBaseline ? undefined : await baseline();

  const bench = await openBench({ [`${WORKFLOW}.yaml`]: WORKFLOW_YAML });
  const sql = postgres(bench.databaseUrl, { max: 1, onnotice: () => {} });
  let closed = false;
  const shutdown = async () => {
    if (closed) return;
    closed = true;
    await sql.end();
    await bench.close();
  };
  try {
    const { url, proc: serve } = await bench.serve();
    const workers = Array.from({ length: WORKERS }, () => bench.worker(concurrency));
    await waitUntil(() => workers.every((w) => /running up to/.test(w.stderr())), 30_000, 'workers to start');
    const sample = (total: number, underLoad = false): MemorySample => ({
      runs: total,
      underLoad,
      serve: rssMiB(serve.pid),
      workers: workers.map((w) => rssMiB(w.pid)),
    });
    /**
     * After a phase drained: a full collection in each process (SIGUSR2, see service-commands.ts),
     * then the lowest of 5 readings over 2 s. Without the collection a reading lands anywhere on the
     * collector's sawtooth (±40 MiB here), which no fit over a few samples can tell from growth.
     */
    const settled = async (total: number): Promise<MemorySample> => {
      for (const pid of [serve.pid, ...workers.map((w) => w.pid)]) process.kill(pid, 'SIGUSR2');
      await new Promise((r) => setTimeout(r, 500));
      const readings = [sample(total)];
      for (let i = 0; i < 4; i++) {
        await new Promise((r) => setTimeout(r, 500));
        readings.push(sample(total));
      }
      return {
        runs: total,
        underLoad: false,
        serve: Math.min(...readings.map((r) => r.serve)),
        workers: workers.map((_, i) => Math.min(...readings.map((r) => r.workers[i] ?? Number.NaN))),
      };
    };
    const samples: MemorySample[] = [];
    const driver = makeDriver(url, WORKFLOW, inFlight);
    let done = 0;

    /** Triggers `count` runs and waits for them all to succeed, sampling RSS at each 5k mark. */
    const phase = async (count: number) => {
      const target = done + count;
      const triggering = driver.trigger(count);
      await waitForRuns(sql, target, POLL_MS, (ok) => {
        while (samples.length > 0 && nextBoundary(samples) <= ok && nextBoundary(samples) < target) {
          samples.push(sample(nextBoundary(samples), true));
        }
      });
      await triggering;
      done = target;
      if (samples.length > 0 && (nextBoundary(samples) === done || done === memoryRuns))
        samples.push(await settled(done));
    };

    const memoryStart = performance.now();
    await phase(warmup);
    samples.push(await settled(warmup));

    const cpu = cpuMeter({
      serve: () => cpuSeconds(serve.pid),
      workers: () => workers.reduce((s, w) => s + cpuSeconds(w.pid), 0),
      postgres: () => cpuSecondsByName('postgres'),
      redis: () => cpuSecondsByName('redis-server'),
      driver: () => process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6,
    });
    const jit = jitMeter([serve.pid, ...workers.map((w) => w.pid)]);
    driver.latencies.length = 0;
    const started = Date.now();
    await phase(runs);
    const used = cpu.stop();
    const jitUsed = jit.stop();
    const [last] = await sql<{ at: Date }[]>`select max(finished_at) as at from runs`;
    const seconds = ((last?.at.getTime() ?? Date.now()) - started) / 1000;
    const latencies = driver.latencies;
    const triggersSeconds = (driver.lastAnswer - started) / 1000;

    while (done < memoryRuns) await phase(Math.min(SAMPLE_STEP, memoryRuns - done));
    const memorySeconds = (performance.now() - memoryStart) / 1000;

    await verify(sql, done);

    // Growth is judged on samples taken after a phase drained, from the end of the timed phase on: by
    // then the workers have run at full concurrency (the warm-up rarely fills them), so heaps are sized.
    const idle = samples.filter((s) => !s.underLoad);
    const steady =
      idle.filter((s) => s.runs >= warmup + runs).length >= 2
        ? idle.filter((s) => s.runs >= warmup + runs)
        : idle;
    const fits = [
      linearFit(steady.map((s) => [s.runs, s.serve])),
      ...workers.map((_, i) => linearFit(steady.map((s) => [s.runs, s.workers[i] ?? Number.NaN]))),
    ].map((f) => ({ slope: f.slope * PER, se: f.se * PER }));
    const growth = {
      serve: fits[0]?.slope ?? Number.NaN,
      workers: fits.slice(1).map((f) => f.slope),
      stderr: fits.map((f) => f.se),
    };
    const base = steady[0] as MemorySample;
    const bases = [base.serve, ...base.workers];
    // Growth beyond noise: more than max(2 MiB, 2% of RSS) per 10k runs AND more than twice its
    // standard error (RSS moves ±10-20 MiB with garbage collection, so a 4-point fit is noisy).
    const memoryOk = fits.every(
      (f, i) =>
        f.slope < Math.max(2, (bases[i] ?? 0) * 0.02) || (Number.isFinite(f.se) && f.slope <= 2 * f.se),
    );
    const steadyFrom = base.runs;

    const runsPerSec = runs / seconds;
    const result: ThroughputResult = {
      runs,
      warmup,
      concurrency,
      inFlight,
      baton: {
        runsPerSec,
        seconds,
        triggersSeconds,
        triggerP50Ms: percentile(latencies, 50),
        triggerP99Ms: percentile(latencies, 99),
        cpuPer1000: Object.fromEntries(Object.entries(used).map(([k, v]) => [k, (v / runs) * 1000])),
        jitShare: jitUsed / ((used.serve ?? 0) + (used.workers ?? 0)),
      },
      memory: { samples, steadyFrom, growthPer10k: growth, goalMet: memoryOk, seconds: memorySeconds },
      wallSeconds: (performance.now() - wallStart) / 1000,
    };
    // Baton's processes stop before the second baseline run, so it has the machine to itself.
    await shutdown();
    if (bullBefore) {
      const bullAfter = await baseline();
      const both = [bullBefore, bullAfter];
      const mean = (f: (r: (typeof both)[number]) => number) => (f(bullBefore) + f(bullAfter)) / 2;
      const flowsPerSec = mean((r) => r.flowsPerSec);
      result.bullmq = {
        flowsPerSec,
        seconds: mean((r) => r.seconds),
        cpuPer1000: Object.fromEntries(
          Object.keys(bullBefore.cpuPer1000).map((k) => [k, mean((r) => r.cpuPer1000[k] ?? 0)]),
        ),
        jitShare: mean((r) => r.jitShare),
        runs: both.map((r) => ({ flowsPerSec: r.flowsPerSec, seconds: r.seconds })),
      };
      result.ratio = runsPerSec / flowsPerSec;
      result.goalMet = runsPerSec >= flowsPerSec;
    }
    result.wallSeconds = (performance.now() - wallStart) / 1000;
    printThroughput(result);
    return result;
  } finally {
    await shutdown();
  }
}

function nextBoundary(samples: MemorySample[]): number {
  const lastRuns = (samples.at(-1) as MemorySample).runs;
  return lastRuns + SAMPLE_STEP;
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string' },
      'memory-runs': { type: 'string' },
      warmup: { type: 'string' },
      concurrency: { type: 'string' },
      'in-flight': { type: 'string' },
      'skip-baseline': { type: 'boolean' },
    },
  });
  const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  const result = await throughput({
    runs: num(values.runs),
    memoryRuns: num(values['memory-runs']),
    warmup: num(values.warmup),
    concurrency: num(values.concurrency),
    inFlight: num(values['in-flight']),
    skipBaseline: values['skip-baseline'] ?? false,
  });
  console.log(`\nwall time ${fmt(result.wallSeconds)} s`);
  process.exit(0);
}
