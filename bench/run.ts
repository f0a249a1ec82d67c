/**
 * Engine overhead: how much time Baton's executor adds per task, against a baseline that
 * does the same work (awaiting a no-op async function per task, in dependency order)
 * with no engine at all, measured in the same process and run.
 *
 *   npm run bench            # or: bun bench/run.ts [--tasks 200] [--rounds 20]
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { MemorySink } from '../src/engine/events.ts';
import { executeRun } from '../src/engine/executor.ts';
import { type AnyAction, defineAction } from '../src/plugins/define-action.ts';
import { normalizeWorkflow } from '../src/workflow/normalize.ts';
import { workflowFileSchema } from '../src/workflow/spec.ts';

const { values } = parseArgs({
  options: { tasks: { type: 'string', default: '200' }, rounds: { type: 'string', default: '20' } },
});
const taskCount = Number(values.tasks);
const rounds = Number(values.rounds);

const noop = defineAction({
  name: 'noop',
  description: 'returns its input',
  input: z.object({ n: z.number() }),
  output: z.object({ n: z.number() }),
  run: async (ctx) => ({ n: ctx.input.n }),
});
const actions = new Map<string, AnyAction>([['noop', noop]]);

// A layered DAG: 10 tasks wide, each task depending on one task of the layer before.
const width = 10;
const tasks: Record<string, unknown> = {};
for (let i = 0; i < taskCount; i++) {
  const deps = i >= width ? [`t${i - width}`] : [];
  tasks[`t${i}`] = {
    action: 'noop',
    depends_on: deps,
    inputs: { n: deps.length ? `\${tasks.t${i - width}.output.n + 1}` : 0 },
  };
}
const file = workflowFileSchema.parse({ parallelism: width, tasks });
const workflow = normalizeWorkflow(file, {
  defaultName: 'bench',
  file: 'bench.yaml',
  source: JSON.stringify(file),
});

async function baseline(): Promise<void> {
  const outputs = new Map<string, Promise<{ n: number }>>();
  for (let i = 0; i < taskCount; i++) {
    const before = i >= width ? outputs.get(`t${i - width}`) : undefined;
    outputs.set(
      `t${i}`,
      (async () =>
        noop.run({ input: { n: before ? (await before).n + 1 : 0 } } as never) as Promise<{ n: number }>)(),
    );
  }
  await Promise.all(outputs.values());
}

async function engine(): Promise<void> {
  const result = await executeRun({
    workflow,
    actions,
    runId: 'bench',
    trigger: { type: 'manual' },
    secrets: {},
    events: new MemorySink(),
    env: { filesDir: '/tmp', httpAllow: [], outputLimitBytes: 256 * 1024 },
  });
  if (result.status !== 'succeeded') throw new Error(`bench run ${result.status}`);
}

async function measure(fn: () => Promise<void>): Promise<number[]> {
  await fn(); // warm-up
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b);
}

const median = (xs: number[]) => xs[Math.floor(xs.length / 2)] ?? Number.NaN;
const base = median(await measure(baseline));
const eng = median(await measure(engine));
const perTaskUs = ((eng - base) / taskCount) * 1000;
console.log(`tasks per run            ${taskCount} (${width} wide), ${rounds} rounds, medians`);
console.log(`baseline (plain awaits)  ${base.toFixed(2)} ms`);
console.log(`baton executor           ${eng.toFixed(2)} ms`);
console.log(`overhead per task        ${perTaskUs.toFixed(1)} µs`);
console.log(`ratio executor/baseline  ${(eng / base).toFixed(1)}x`);
