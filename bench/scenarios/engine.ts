/**
 * Engine only (no database, no queue, no HTTP): how much time Baton's executor adds per task,
 * against a baseline that does the same work (awaiting a no-op async function per task, in
 * dependency order) with no engine at all, measured in the same process and run.
 *
 *   bun bench/run.ts --only engine
 */
import { z } from 'zod';
import { MemorySink } from '../../src/engine/events.ts';
import { executeRun } from '../../src/engine/executor.ts';
import { type AnyAction, defineAction } from '../../src/plugins/define-action.ts';
import { loadWorkflowText } from '../../src/workflow/loader.ts';
import { normalizeWorkflow } from '../../src/workflow/normalize.ts';
import { workflowFileSchema } from '../../src/workflow/spec.ts';
import type { Workflow } from '../../src/workflow/types.ts';
import { info, type ScenarioResult } from '../lib/goals.ts';
import { fmt, median, table } from '../lib/stats.ts';

export interface EngineOptions {
  /** Tasks in the DAG (default 200). */
  tasks?: number;
  /** Measured rounds after one warm-up (default 20). */
  rounds?: number;
}

const ENV = { filesDir: '/tmp', httpAllow: [], outputLimitBytes: 256 * 1024 };

/** A workflow from YAML text, exactly as the registry would load it; throws on problems. */
export function workflowFromText(name: string, text: string): Workflow {
  const { workflow, problems } = loadWorkflowText(text, { file: `${name}.yaml`, defaultName: name });
  if (!workflow) throw new Error(`bench workflow ${name}: ${problems.map((p) => p.message).join('; ')}`);
  return workflow;
}

/** One run in this process with the executor and a MemorySink: no database, no queue. */
export async function executeInProcess(
  workflow: Workflow,
  actions: ReadonlyMap<string, AnyAction>,
): Promise<void> {
  const result = await executeRun({
    workflow,
    actions,
    runId: 'bench',
    trigger: { type: 'manual' },
    secrets: {},
    events: new MemorySink(),
    env: ENV,
  });
  if (result.status !== 'succeeded') throw new Error(`bench run ${result.status}`);
}

/** Times fn `rounds` times after one warm-up; the times in ms, in order. */
export async function timeRounds(fn: () => Promise<void>, rounds: number): Promise<number[]> {
  await fn();
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  return times;
}

const noop = defineAction({
  name: 'noop',
  description: 'returns its input',
  input: z.object({ n: z.number() }),
  output: z.object({ n: z.number() }),
  run: async (ctx) => ({ n: ctx.input.n }),
});

export async function engine(options: EngineOptions = {}): Promise<ScenarioResult> {
  const taskCount = options.tasks ?? 200;
  const rounds = options.rounds ?? 20;
  const actions = new Map<string, AnyAction>([['noop', noop]]);

  // A layered DAG: 10 tasks wide, each task depending on one task of the layer before,
  // and reading its output through a template.
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

  const baseline = async (): Promise<void> => {
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
  };

  const base = median(await timeRounds(baseline, rounds));
  const eng = median(await timeRounds(() => executeInProcess(workflow, actions), rounds));
  const perTaskUs = ((eng - base) / taskCount) * 1000;
  table(
    `Engine only: executor overhead, ${taskCount}-task DAG (${width} wide), in process, no database; median of ${rounds} rounds`,
    ['', 'ms per run', 'µs per task', 'ratio'],
    [
      ['baseline: plain awaits in dependency order', base, (base / taskCount) * 1000, '1.0x'],
      ['baton executor (MemorySink)', eng, (eng / taskCount) * 1000, `${fmt(eng / base)}x`],
      ['engine overhead', eng - base, perTaskUs, ''],
    ],
  );
  return { goals: [info('engine only: executor overhead per task (no DB)', `${fmt(perTaskUs)} µs`)] };
}
