import type { ThroughputResult } from '../scenarios/throughput.ts';
import { fmt, table } from './stats.ts';

/** Prints the throughput and memory tables of a throughput() result. */
export function printThroughput(r: ThroughputResult): void {
  const rows: (string | number)[][] = [
    ['Baton (serve + 2 workers, Postgres history)', r.baton.runsPerSec, r.baton.seconds, '1.00'],
  ];
  if (r.bullmq) {
    const when = ['before Baton', 'after Baton'];
    for (const [i, run] of r.bullmq.runs.entries())
      rows.push([
        `BullMQ FlowProducer (2 workers), ${when[i] ?? `run ${i + 1}`}`,
        run.flowsPerSec,
        run.seconds,
        (run.flowsPerSec / r.baton.runsPerSec).toFixed(2),
      ]);
    rows.push([
      'BullMQ, mean of the runs (the baseline)',
      r.bullmq.flowsPerSec,
      r.bullmq.seconds,
      (r.bullmq.flowsPerSec / r.baton.runsPerSec).toFixed(2),
    ]);
  }
  table(
    `End-to-end throughput: ${r.runs} runs of a 3-task DAG, concurrency ${r.concurrency} per worker, ${r.inFlight} triggers in flight`,
    ['system', 'runs/s', 'seconds', 'vs Baton'],
    rows,
  );
  if (r.ratio !== undefined)
    console.log(
      `ratio Baton/BullMQ ${r.ratio.toFixed(2)}; goal (Baton ≥ BullMQ) ${r.goalMet ? 'met' : `missed by ${fmt((1 - r.ratio) * 100)}%`}`,
    );
  console.log(
    `triggers: all answered after ${fmt(r.baton.triggersSeconds)} s; POST latency p50 ${fmt(r.baton.triggerP50Ms)} ms, p99 ${fmt(r.baton.triggerP99Ms)} ms`,
  );
  const cpu = (parts: Record<string, number>) =>
    `${Object.entries(parts)
      .map(([k, v]) => `${k} ${v.toFixed(2)}`)
      .join(', ')} (total ${Object.values(parts)
      .reduce((a, b) => a + b, 0)
      .toFixed(2)})`;
  const jit = (share: number, who: string) => `; JIT compiling: ${fmt(share * 100)}% of ${who}' CPU`;
  console.log(
    `CPU seconds per 1,000 runs, Baton: ${cpu(r.baton.cpuPer1000)}${jit(r.baton.jitShare, 'serve and the workers')}`,
  );
  if (r.bullmq)
    console.log(
      `CPU seconds per 1,000 flows, BullMQ (mean): ${cpu(r.bullmq.cpuPer1000)}${jit(r.bullmq.jitShare, 'the workers')}`,
    );
  console.log(`(after a warm-up of ${r.warmup} runs and ${r.warmup} flows)`);
  const w = r.memory.samples[0]?.workers.length ?? 0;
  table(
    `Memory (RSS, MiB) as runs accumulate (${fmt(r.memory.seconds)} s for all ${r.memory.samples.at(-1)?.runs} runs)`,
    ['runs', 'serve', ...Array.from({ length: w }, (_, i) => `worker ${i + 1}`)],
    [
      ...r.memory.samples.map((s) => [
        `${s.runs}${s.underLoad ? ' (under load)' : ''}`,
        s.serve,
        ...s.workers,
      ]),
      [
        `growth / 10k from ${r.memory.steadyFrom}`,
        r.memory.growthPer10k.serve,
        ...r.memory.growthPer10k.workers,
      ],
    ],
  );
  console.log(
    `standard error of the growth per 10k: ${r.memory.growthPer10k.stderr.map((e) => fmt(e)).join(', ')}; ` +
      `goal (no growth beyond noise: under max(2 MiB, 2% of RSS) per 10k runs, or under twice its standard error) ${r.memory.goalMet ? 'met' : 'missed'}`,
  );
}
