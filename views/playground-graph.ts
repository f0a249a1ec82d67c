import { parse } from 'yaml';
import { findCycles } from '../src/workflow/dag.ts';
import type { GraphEdge, GraphNode } from './graph-layout.ts';

/**
 * The graph of a workflow file that does not load (yet): read straight from the YAML, so the
 * playground can still draw what the author wrote, cycles included (their edges marked).
 * Anything it cannot make sense of is left out; the problem list says why.
 */
export function roughGraph(text: string): { nodes: GraphNode[]; edges: GraphEdge[] } | undefined {
  let doc: unknown;
  try {
    doc = parse(text, { uniqueKeys: false, maxAliasCount: 10 });
  } catch {
    return undefined;
  }
  if (!isObject(doc)) return undefined;
  const tasks = fromTasks(doc.tasks) ?? fromSteps(doc.steps);
  if (!tasks || tasks.length === 0) return undefined;
  const inCycle = new Set<string>();
  for (const cycle of findCycles(tasks)) {
    // [a, b, a]: a depends on b, so the drawn edge runs b → a.
    for (let i = 0; i + 1 < cycle.length; i++) inCycle.add(`${cycle[i + 1]}→${cycle[i]}`);
  }
  return {
    nodes: tasks.map((t) => ({ id: t.id, detail: t.action })),
    edges: tasks.flatMap((t) =>
      t.dependsOn.map((from) => ({
        from,
        to: t.id,
        ...(inCycle.has(`${from}→${t.id}`) ? { cycle: true } : {}),
      })),
    ),
  };
}

interface RoughTask {
  id: string;
  action: string;
  dependsOn: string[];
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

function actionOf(task: Record<string, unknown>): string {
  if (typeof task.action === 'string') return task.action;
  return task.run !== undefined ? 'shell' : '?';
}

function depsOf(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((d): d is string => typeof d === 'string') : [];
}

function fromTasks(tasks: unknown): RoughTask[] | undefined {
  if (!isObject(tasks)) return undefined;
  return Object.entries(tasks).map(([id, t]) => ({
    id,
    action: isObject(t) ? actionOf(t) : '?',
    dependsOn: isObject(t) ? depsOf(t.depends_on) : [],
  }));
}

function fromSteps(steps: unknown): RoughTask[] | undefined {
  if (!Array.isArray(steps)) return undefined;
  let previous: string | undefined;
  return steps.map((s, i) => {
    const step = isObject(s) ? s : {};
    const id = typeof step.id === 'string' ? step.id : `step_${i + 1}`;
    const explicit = step.depends_on !== undefined ? depsOf(step.depends_on) : undefined;
    const dependsOn = explicit ?? (previous ? [previous] : []);
    previous = id;
    return { id, action: actionOf(step), dependsOn };
  });
}
