/**
 * Issue 5, scenarios 1 and 4: webhook ingest under open-loop load, and trigger-to-first-task latency.
 *
 *   bun bench/scenarios/ingest.ts [--rates 500,1000,2000,5000] [--seconds 10] [--warmup-seconds 10] [--latency-seconds 10]
 *
 * Scenario 1: one `baton serve` and NO workers, so what is measured is ingest alone (verify, parse,
 * commit the run, enqueue, answer 202); the runs just queue. The reconciler is slowed to once an
 * hour there: with no worker every queued run looks stale to it after 10 s, and it would re-enqueue
 * the backlog while the next rate is measured. The load comes from a separate process
 * (bench/lib/loadgen.ts), open loop. After each rate every 202's run id is looked up in `runs`.
 * Baseline, same rates, same generator: a bare Bun.serve that checks the same signature and answers
 * 202 with no database (bench/lib/ingest-bare.ts). Both servers first take --warmup-seconds of load
 * at 1,000 req/s (at most the highest rate), not measured: a fresh process compiles its code for
 * the first several thousand requests, and the first rate measured used to pay for it.
 *
 * Scenario 4: a fresh database, one serve and 2 workers; open-loop load at half the highest rate
 * sustained in scenario 1 (at least 100/s) for --latency-seconds; latency = started_at of the
 * run's first task attempt minus the time the webhook request was due (same machine clock).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import Redis from 'ioredis';
import postgres from 'postgres';
import { signGithub } from '../../src/triggers/webhook-sign.ts';
import { type Bench, openBench, REDIS_URL, waitUntil } from '../lib/cluster.ts';
import { type CommitProbeFigures, startCommitProbe } from '../lib/commit-probe.ts';
import { startBare } from '../lib/ingest-bare.ts';
import { type LoadgenResult, runLoadgen } from '../lib/loadgen.ts';
import { fmt, max, percentile, table } from '../lib/stats.ts';

const SECRET = 'bench-hook-secret-0123456789abcdef';
const HOOK_YAML = `on:
  webhook: { verify: github, secret: BENCH_HOOK }
tasks:
  noop:
    action: transform
    inputs: { template: { ok: true } }
`;
/**
 * Runs per worker in scenario 4, as in the throughput scenario. The default (10) bounds two workers
 * to 20 runs in flight, about 2,500 runs/s here: at half of a 5,000 req/s ingest the queue would
 * only grow, and the figure would measure the backlog, not the latency.
 */
const LATENCY_WORKER_CONCURRENCY = 50;
/** Sustained: every request answered 202, at (nearly) the rate asked for, p99 under 10 ms. */
const SUSTAIN_P99_MS = 10;
const GOALS: Record<number, { p99: number; text: string }> = {
  2000: { p99: 5, text: 'p99 < 5 ms' },
  5000: { p99: 10, text: 'sustained, p99 < 10 ms' },
};

export interface RateFigures {
  rate: number;
  sent: number;
  accepted: number;
  errors: number;
  errorSamples: string[];
  achievedRate: number;
  p50: number;
  p99: number;
  max: number;
  /** p99 from the time the bytes were written rather than due (the generator's own lateness removed). */
  serviceP99: number;
  sendLagP99: number;
  /** Server process CPU (user + system) per answered request, in µs. */
  serverCpuUs: number;
  sustained: boolean;
}

export interface BatonRateFigures extends RateFigures {
  /** 202s whose run id has no row in `runs` (must be 0). */
  missingRuns: number;
  /** Committed runs (all rates so far) without an entry in the queue's stream. */
  notEnqueued: number;
  /** Database transactions per request (pg_stat_database.xact_commit: one per autocommit statement). */
  commitsPerRequest: number;
  /** A one-row autocommit INSERT every 20 ms on a connection of its own, timed, during the rate. */
  commitProbe: CommitProbeFigures;
}

export interface IngestResult {
  seconds: number;
  /** Seconds of unmeasured load each server took first. */
  warmupSeconds: number;
  bare: RateFigures[];
  baton: BatonRateFigures[];
  /** Highest tested rate Baton sustained with p99 under 10 ms, null when none. */
  highestSustained: number | null;
  goals: { goal: string; figure: string; met: boolean | null }[];
  latency: {
    rate: number;
    seconds: number;
    runs: number;
    completed: number;
    p50: number;
    p99: number;
    max: number;
    /** Runs finished per second, first due request to last run finished. */
    runsPerSecond: number;
    /** Why this rate: half the highest sustained ingest rate, or the fallback used. */
    basis: string;
    /** p50 / p99 of the parts (ms): due → run row created; created → claimed by a worker; claimed → first task started. */
    parts: { ingest: [number, number]; queue: [number, number]; worker: [number, number] };
  };
}

/** CPU time (user + system) of a process so far, in ms, from /proc. */
function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return Number.NaN;
  }
}

function figures(load: LoadgenResult, serverCpu: number): RateFigures {
  const p99 = percentile(load.latencyMs, 99);
  return {
    rate: load.rate,
    sent: load.sent,
    accepted: load.runIds.length,
    errors: load.errors,
    errorSamples: load.errorSamples,
    achievedRate: load.achievedRate,
    p50: percentile(load.latencyMs, 50),
    p99,
    max: max(load.latencyMs),
    serviceP99: percentile(load.serviceMs, 99),
    sendLagP99: load.sendLagP99Ms,
    // The warm-up's requests reach the server inside the same CPU window.
    serverCpuUs:
      (serverCpu / Math.max(1, load.sent - (load.statuses['0'] ?? 0) + load.warmupRunIds.length)) * 1000,
    sustained: load.errors === 0 && load.achievedRate >= 0.95 * load.rate && p99 < SUSTAIN_P99_MS,
  };
}

/** Waits (up to 60 s) until the process is idle: an overloaded server may still be working off requests. */
async function settle(pid: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  let last = cpuMs(pid);
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500));
    const now = cpuMs(pid);
    if (now - last < 50) return; // under 10% of a core
    last = now;
  }
}

async function measureRate(
  url: string,
  pid: number,
  rate: number,
  seconds: number,
): Promise<{ load: LoadgenResult; figures: RateFigures }> {
  await settle(pid);
  const cpu0 = cpuMs(pid);
  const load = await runLoadgen({ url, secret: SECRET, rate, seconds });
  return { load, figures: figures(load, cpuMs(pid) - cpu0) };
}

async function commits(sql: postgres.Sql): Promise<number> {
  const [row] =
    await sql`select xact_commit::float8 as n from pg_stat_database where datname = current_database()`;
  return Number(row?.n);
}

/** How many of the ids have a committed row. */
async function checkRuns(sql: postgres.Sql, ids: string[]): Promise<number> {
  let found = 0;
  for (let i = 0; i < ids.length; i += 20_000) {
    const chunk = ids.slice(i, i + 20_000);
    const [row] = await sql`select count(*)::int as found from runs where id = any(${chunk}::uuid[])`;
    found += row?.found ?? 0;
  }
  return found;
}

/**
 * Committed runs that never reached the queue: with no worker running, every committed run's
 * entry is still in the stream (entries leave it only when acked), so the two counts must match.
 */
async function notEnqueued(sql: postgres.Sql, redis: Redis, prefix: string): Promise<number> {
  const [row] = await sql`select count(*)::int as n from runs`;
  return (row?.n ?? 0) - (await redis.xlen(`${prefix}:runs`));
}

async function scenarioIngest(rates: number[], seconds: number, warmupSeconds: number) {
  const bare: RateFigures[] = [];
  const baton: BatonRateFigures[] = [];
  const bareServer = await startBare(SECRET);
  const bench = await openBench({ 'hook.yaml': HOOK_YAML });
  const sql = postgres(bench.databaseUrl, { max: 2, onnotice: () => {} });
  const redis = new Redis(REDIS_URL);
  try {
    const { proc, url } = await bench.serve({
      BATON_SECRET_BENCH_HOOK: SECRET,
      BATON_RECONCILE_INTERVAL: '1h',
    });
    if (warmupSeconds > 0) {
      const rate = Math.min(1000, Math.max(...rates));
      for (const target of [`${bareServer.url}/hooks/hook`, `${url}/hooks/hook`])
        await runLoadgen({ url: target, secret: SECRET, rate, seconds: warmupSeconds });
    }
    for (const rate of rates) {
      bare.push((await measureRate(`${bareServer.url}/hooks/hook`, bareServer.pid, rate, seconds)).figures);
      const before = await commits(sql);
      const probe = await startCommitProbe(bench.databaseUrl);
      const { load, figures: f } = await measureRate(`${url}/hooks/hook`, proc.pid, rate, seconds);
      const commitProbe = await probe.stop();
      await new Promise((r) => setTimeout(r, 1100)); // pg_stat_database lags up to a second
      // Minus the first commits() query and the probe's own inserts.
      const committed = (await commits(sql)) - before - 1 - commitProbe.commits;
      const ids = [...load.runIds, ...load.warmupRunIds];
      const unique = new Set(ids).size;
      const found = await checkRuns(sql, ids);
      baton.push({
        ...f,
        missingRuns: ids.length - found + (ids.length - unique),
        notEnqueued: await notEnqueued(sql, redis, bench.prefix),
        commitsPerRequest: committed / ids.length,
        commitProbe,
      });
      const last = baton[baton.length - 1] as BatonRateFigures;
      if (last.errors > 0)
        console.error(`ingest ${rate}/s: ${last.errors} errors, e.g. ${last.errorSamples[0]}`);
    }
  } finally {
    bareServer.stop();
    await sql.end();
    redis.disconnect();
    await bench.close();
  }
  return { bare, baton };
}

async function postSigned(url: string, n: number): Promise<string> {
  const body = JSON.stringify({ warmup: n });
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'issues',
      'x-github-delivery': crypto.randomUUID(),
      ...signGithub(SECRET, body),
    },
    body,
  });
  if (res.status !== 202) throw new Error(`warm-up webhook answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { run_id: string }).run_id;
}

async function settled(sql: postgres.Sql, ids: string[]): Promise<number> {
  const [row] = await sql`select count(*)::int as n from runs
    where id = any(${ids}::uuid[]) and status in ('succeeded', 'failed', 'cancelled', 'timed_out')`;
  return row?.n ?? 0;
}

async function scenarioLatency(
  rate: number,
  seconds: number,
  basis: string,
): Promise<IngestResult['latency']> {
  const bench: Bench = await openBench({ 'hook.yaml': HOOK_YAML });
  const sql = postgres(bench.databaseUrl, { max: 2, onnotice: () => {} });
  try {
    const { url } = await bench.serve({ BATON_SECRET_BENCH_HOOK: SECRET });
    bench.worker(LATENCY_WORKER_CONCURRENCY);
    bench.worker(LATENCY_WORKER_CONCURRENCY);
    // Both workers up and executing before the timed load.
    const warm = await Promise.all(Array.from({ length: 20 }, (_, i) => postSigned(`${url}/hooks/hook`, i)));
    await waitUntil(async () => (await settled(sql, warm)) === warm.length, 30_000, 'warm-up runs');
    await new Promise((r) => setTimeout(r, 500));

    const load = await runLoadgen({ url: `${url}/hooks/hook`, secret: SECRET, rate, seconds });
    const ids = [...load.runIds, ...load.warmupRunIds];
    const timeoutMs = 120_000;
    await waitUntil(async () => (await settled(sql, ids)) === ids.length, timeoutMs, 'runs to finish').catch(
      (err) => console.error(`latency: ${(err as Error).message}`),
    );
    type Row = {
      id: string;
      created: number;
      claimed: number | null;
      started: number | null;
      finished: number | null;
    };
    const rows = await sql<Row[]>`
      select r.id, (extract(epoch from r.created_at) * 1000)::float8 as created,
             (extract(epoch from r.started_at) * 1000)::float8 as claimed,
             (extract(epoch from min(t.started_at)) * 1000)::float8 as started,
             (extract(epoch from r.finished_at) * 1000)::float8 as finished
      from runs r left join task_runs t on t.run_id = r.id and t.started_at is not null
      where r.id = any(${load.runIds}::uuid[]) group by r.id`;
    const byId = new Map(rows.map((r) => [r.id, r]));
    const latencies: number[] = [];
    const ingestMs: number[] = [];
    const queueMs: number[] = [];
    const workerMs: number[] = [];
    let lastFinished = 0;
    load.runIds.forEach((id, i) => {
      const row = byId.get(id);
      if (!row) return;
      const due = load.dueEpochMs[i] as number;
      ingestMs.push(row.created - due);
      if (row.claimed != null) queueMs.push(row.claimed - row.created);
      if (row.started != null) latencies.push(row.started - due);
      if (row.started != null && row.claimed != null) workerMs.push(row.started - row.claimed);
      if (row.finished != null && row.finished > lastFinished) lastFinished = row.finished;
    });
    const firstDue = load.dueEpochMs[0] ?? 0;
    const p50p99 = (xs: number[]): [number, number] => [percentile(xs, 50), percentile(xs, 99)];
    return {
      rate,
      seconds,
      basis,
      parts: { ingest: p50p99(ingestMs), queue: p50p99(queueMs), worker: p50p99(workerMs) },
      runs: load.runIds.length,
      completed: await settled(sql, load.runIds),
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      max: max(latencies),
      runsPerSecond: lastFinished > firstDue ? (latencies.length / (lastFinished - firstDue)) * 1000 : 0,
    };
  } finally {
    await sql.end();
    await bench.close();
  }
}

/** The slowest commit of the probe, when one stalled for longer than the goal allows a webhook. */
const probeNote = (r: BatonRateFigures) =>
  r.commitProbe.maxMs > 10 ? ` (a bare commit took up to ${fmt(r.commitProbe.maxMs, 0)} ms meanwhile)` : '';

function goalsOf(baton: BatonRateFigures[], highest: number | null): IngestResult['goals'] {
  const at2000 = baton.find((r) => r.rate === 2000);
  const at5000 = baton.find((r) => r.rate === 5000);
  return [
    {
      goal: 'p99 < 5 ms at 2,000 req/s',
      figure: at2000
        ? `p99 ${fmt(at2000.p99, 2)} ms, ${fmt(at2000.achievedRate, 0)} req/s${probeNote(at2000)}`
        : 'not tested',
      met: at2000 ? at2000.p99 < 5 && at2000.errors === 0 && at2000.achievedRate >= 0.95 * 2000 : null,
    },
    {
      goal: '5,000 req/s sustained with p99 < 10 ms',
      figure: at5000
        ? `p99 ${fmt(at5000.p99, 2)} ms, ${fmt(at5000.achievedRate, 0)} req/s${probeNote(at5000)}`
        : 'not tested',
      met: at5000 ? at5000.sustained : null,
    },
    {
      goal: 'highest rate with p99 < 10 ms: 5,000 req/s',
      figure: highest === null ? 'none of the tested rates' : `${highest} req/s`,
      met: highest !== null && highest >= 5000,
    },
  ];
}

const yesNo = (met: boolean | null) => (met === null ? '—' : met ? 'yes' : 'NO');

export function printIngest(result: IngestResult): void {
  const rows = result.baton.map((b, i) => {
    const base = result.bare[i];
    const goal = GOALS[b.rate];
    const met = goal ? b.p99 < goal.p99 && b.errors === 0 && b.achievedRate >= 0.95 * b.rate : null;
    return [
      String(b.rate),
      String(b.sent),
      String(b.accepted),
      String(b.errors),
      fmt(b.achievedRate, 0),
      fmt(b.p50, 2),
      fmt(b.p99, 2),
      fmt(b.max, 1),
      base ? `${fmt(base.p50, 2)} / ${fmt(base.p99, 2)}` : '—',
      base ? `${fmt(b.p99 / base.p99, 1)}x` : '—',
      `${fmt(b.serverCpuUs, 0)} / ${base ? fmt(base.serverCpuUs, 0) : '—'}`,
      fmt(b.commitsPerRequest, 2),
      `${fmt(b.commitProbe.p50Ms, 2)} / ${fmt(b.commitProbe.p99Ms, 1)} / ${fmt(b.commitProbe.maxMs, 0)} (${b.commitProbe.over20Ms})`,
      `${b.missingRuns} / ${b.notEnqueued}`,
      goal ? `${goal.text}: ${yesNo(met)}` : '—',
    ];
  });
  table(
    `Webhook ingest (issue 5 §1): open loop from a separate process, ${result.seconds} s per rate, 1 serve and no ` +
      `workers (runs only queue), after ${result.warmupSeconds} s of unmeasured load on each server; latency ` +
      'from the time each request was due, in ms. Baseline measured in the ' +
      'same run: a bare Bun.serve that checks the same GitHub signature and answers 202 with no database; ' +
      'ratio = Baton p99 ÷ bare p99. Commit probe: a one-row INSERT every 20 ms on a connection of its own ' +
      'while the rate runs, p50 / p99 / max ms (how many over 20 ms): each webhook waits for a commit like it.',
    [
      'req/s',
      'sent',
      '202',
      'errors',
      'achieved/s',
      'p50',
      'p99',
      'max',
      'bare p50 / p99',
      'p99 ratio',
      'server CPU µs/req baton / bare',
      'db xacts/req',
      'commit probe ms',
      'runs missing / not queued',
      'goal',
    ],
    rows,
  );
  table(
    'Ingest goals (issue 5)',
    ['goal', 'measured', 'met'],
    result.goals.map((g) => [g.goal, g.figure, yesNo(g.met)]),
  );
  const l = result.latency;
  const pair = ([a, b]: [number, number]) => `${fmt(a, 1)} / ${fmt(b, 1)}`;
  table(
    `Trigger-to-first-task latency (issue 5 §4): ${l.rate} req/s (${l.basis}) for ${l.seconds} s, 1 serve + 2 ` +
      `workers (concurrency ${LATENCY_WORKER_CONCURRENCY} each); the first task's started_at minus the time the webhook was due, in ms, split ` +
      'into due → run committed, committed → claimed by a worker, claimed → task started (p50 / p99). The issue ' +
      'sets no goal or baseline for it.',
    [
      'req/s',
      'runs',
      'finished',
      'p50',
      'p99',
      'max',
      'ingest p50/p99',
      'queue p50/p99',
      'worker p50/p99',
      'runs/s through the workers',
    ],
    [
      [
        String(l.rate),
        String(l.runs),
        String(l.completed),
        fmt(l.p50, 1),
        fmt(l.p99, 1),
        fmt(l.max, 1),
        pair(l.parts.ingest),
        pair(l.parts.queue),
        pair(l.parts.worker),
        fmt(l.runsPerSecond, 0),
      ],
    ],
  );
}

export async function ingest(
  options: { rates?: number[]; seconds?: number; warmupSeconds?: number; latencySeconds?: number } = {},
): Promise<IngestResult> {
  const rates = options.rates ?? [500, 1000, 2000, 5000];
  const seconds = options.seconds ?? 10;
  const warmupSeconds = options.warmupSeconds ?? 10;
  const { bare, baton } = await scenarioIngest(rates, seconds, warmupSeconds);
  const sustained = baton.filter((b) => b.sustained).map((b) => b.rate);
  const highestSustained = sustained.length > 0 ? Math.max(...sustained) : null;
  const latencyRate = Math.max(100, Math.floor((highestSustained ?? Math.min(...rates)) / 2));
  const basis =
    highestSustained === null
      ? `no rate was sustained with p99 < ${SUSTAIN_P99_MS} ms: half the lowest rate tested, at least 100`
      : `half the highest sustained ingest rate (${highestSustained}/s), at least 100`;
  const latency = await scenarioLatency(latencyRate, options.latencySeconds ?? 10, basis);
  const result: IngestResult = {
    seconds,
    warmupSeconds,
    bare,
    baton,
    highestSustained,
    goals: goalsOf(baton, highestSustained),
    latency,
  };
  printIngest(result);
  return result;
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      rates: { type: 'string', default: '500,1000,2000,5000' },
      seconds: { type: 'string', default: '10' },
      'warmup-seconds': { type: 'string', default: '10' },
      'latency-seconds': { type: 'string', default: '10' },
    },
  });
  const started = performance.now();
  await ingest({
    rates: values.rates.split(',').map(Number),
    seconds: Number(values.seconds),
    warmupSeconds: Number(values['warmup-seconds']),
    latencySeconds: Number(values['latency-seconds']),
  });
  console.log(`\ningest bench took ${((performance.now() - started) / 1000).toFixed(0)} s`);
  process.exit(0);
}
