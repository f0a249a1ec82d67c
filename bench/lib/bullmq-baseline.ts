/**
 * The BullMQ baseline of the throughput scenario: FlowProducer flows of three no-op jobs, processed
 * by separate BullMQ worker processes on the same Redis, timed from the first add to the last
 * completion. This file is also the worker process (`bun bench/lib/bullmq-baseline.ts --worker …`).
 *
 * The shape. Baton's workflow is A, then B and C after A (a fan-out). A BullMQ flow is a tree whose
 * children finish before their parent, and a job has a single parent, so a fan-out cannot be
 * written. The closest honest shape is its mirror image: parent A with children B and C, i.e. B and
 * C in parallel, then A. Three jobs per flow, two dependency levels, two jobs side by side on one
 * level, one job gated on the others: the same amount of work and ordering a queue has to do.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { FlowProducer, Queue, Worker } from 'bullmq';
import { deleteKeys } from './redis-keys.ts';
import { cpuMeter, cpuSeconds, cpuSecondsByName, jitMeter } from './throughput-cpu.ts';

const QUEUE = 'flow';

/** ioredis options for a redis:// URL; BullMQ's blocking connections need maxRetriesPerRequest null. */
export function redisOptions(url: string) {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    db: Number(u.pathname.slice(1) || 0),
    maxRetriesPerRequest: null,
  };
}

/** Runs `count` calls of `fn(i)` with at most `inFlight` outstanding. */
export async function bounded(count: number, inFlight: number, fn: (i: number) => Promise<void>) {
  let next = 0;
  const lane = async () => {
    while (next < count) await fn(next++);
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, count) }, lane));
}

export interface BullmqOptions {
  redisUrl: string;
  workers: number;
  concurrency: number;
  runs: number;
  warmup: number;
  inFlight: number;
}

export interface BullmqResult {
  flows: number;
  seconds: number;
  flowsPerSec: number;
  failed: number;
  /** CPU seconds per 1,000 flows of the timed phase, by process group. */
  cpuPer1000: Record<string, number>;
  /** Of the worker processes' CPU in the timed phase, the share their JIT compiler threads used. */
  jitShare: number;
}

/** Starts the worker processes, adds warm-up then timed flows, and cleans its keys up. */
export async function bullmqBaseline(options: BullmqOptions): Promise<BullmqResult> {
  const prefix = `bench-bull-${randomBytes(4).toString('hex')}`;
  const connection = redisOptions(options.redisUrl);
  const procs: ChildProcess[] = [];
  const producer = new FlowProducer({ connection, prefix });
  const queue = new Queue(QUEUE, { connection, prefix });
  try {
    for (let i = 0; i < options.workers; i++) procs.push(startWorker(options, prefix));
    await Promise.all(procs.map(ready));
    const flow = (i: number) => ({
      name: 'A',
      queueName: QUEUE,
      data: { i },
      children: [
        { name: 'B', queueName: QUEUE, data: { i } },
        { name: 'C', queueName: QUEUE, data: { i } },
      ],
    });
    const batch = async (count: number, offset: number) => {
      await bounded(count, options.inFlight, async (i) => {
        await producer.add(flow(offset + i));
      });
    };
    const waitCompleted = async (jobs: number) => {
      const deadline = Date.now() + 600_000;
      while (Date.now() < deadline) {
        const [done, failed] = await Promise.all([queue.getCompletedCount(), queue.getFailedCount()]);
        if (failed > 0) throw new Error(`bullmq: ${failed} job(s) failed`);
        if (done >= jobs) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error('bullmq: timed out waiting for flows to complete');
    };
    await batch(options.warmup, 0);
    await waitCompleted(options.warmup * 3);
    const cpu = cpuMeter({
      workers: () => procs.reduce((s, p) => s + cpuSeconds(p.pid ?? -1), 0),
      redis: () => cpuSecondsByName('redis-server'),
      driver: () => (process.cpuUsage().user + process.cpuUsage().system) / 1e6,
    });
    const jit = jitMeter(procs.map((p) => p.pid ?? -1));
    const started = Date.now();
    await batch(options.runs, options.warmup);
    await waitCompleted((options.warmup + options.runs) * 3);
    const used = cpu.stop();
    const jitUsed = jit.stop();
    // The completed set is ordered by finish time: its newest entry is the last completion.
    const [last] = await queue.getJobs(['completed'], 0, 0, false);
    const finished = last?.finishedOn ?? Date.now();
    const failed = await queue.getFailedCount();
    const seconds = (finished - started) / 1000;
    const cpuPer1000 = Object.fromEntries(
      Object.entries(used).map(([k, v]) => [k, (v / options.runs) * 1000]),
    );
    return {
      flows: options.runs,
      seconds,
      flowsPerSec: options.runs / seconds,
      failed,
      cpuPer1000,
      jitShare: jitUsed / (used.workers ?? Number.NaN),
    };
  } finally {
    for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
    await producer.close();
    await queue.close();
    await deleteKeys(options.redisUrl, prefix);
  }
}

function startWorker(options: BullmqOptions, prefix: string): ChildProcess {
  const child = spawn(
    process.execPath,
    [
      join(import.meta.dirname, 'bullmq-baseline.ts'),
      '--worker',
      '--redis',
      options.redisUrl,
      '--prefix',
      prefix,
      '--concurrency',
      String(options.concurrency),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return child;
}

function ready(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`bullmq worker exited with ${code}`)));
  });
}

async function workerMain(): Promise<void> {
  const { values } = parseArgs({
    options: {
      worker: { type: 'boolean' },
      redis: { type: 'string' },
      prefix: { type: 'string' },
      concurrency: { type: 'string' },
    },
  });
  const connection = redisOptions(values.redis ?? 'redis://127.0.0.1:6379');
  // A no-op processor, like Baton's `transform` with a constant: returns a small value.
  const worker = new Worker(QUEUE, async () => ({ result: 1 }), {
    connection,
    prefix: values.prefix ?? 'bench-bull',
    concurrency: Number(values.concurrency ?? 50),
  });
  worker.on('error', (err) => process.stderr.write(`bullmq worker: ${err.message}\n`));
  await worker.waitUntilReady();
  process.stdout.write('ready\n');
}

if (import.meta.main && process.argv.includes('--worker')) await workerMain();
