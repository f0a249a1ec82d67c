import type { $ZodIssue } from 'zod/v4/core';
import { findCycles, findDependencyIssues, type GraphTask, upstreamOf } from './dag.ts';
import { closest, didYouMean } from './did-you-mean.ts';
import type { Finding } from './finding.ts';
import type { Path } from './positions.ts';
import { stepSchema, TASK_ID } from './spec.ts';

/** Checks zod cannot express: tasks vs steps, action vs run, task ids and the dependency graph. */

/** A task as written, read leniently so one broken task does not hide problems in the others. */
export interface RawTask extends GraphTask {
  id: string;
  /** How messages name it: `task "fetch"`, `step "build"`, `step 2`. */
  who: string;
  /** `['tasks', id]` or `['steps', index]`: where the task sits in the file. */
  path: Path;
  /** The task's mapping, or undefined when it is not one. */
  spec: Record<string, unknown> | undefined;
  /** True when dependsOn was written (not implied by step order). */
  explicitDeps: boolean;
  /** Fields zod rejected or a misspelt key stands for ('' = the task itself); checks on them would only cascade. */
  broken: Set<string>;
}

export interface StructureResult {
  findings: Finding[];
  /** Empty when the task container itself is unusable. */
  tasks: RawTask[];
  /** Tasks whose upstream set is unreliable (a broken dependency above them): skip upstream checks. */
  unsure: Set<string>;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** Zod issues that checkStructure explains better (an empty `tasks:`, a list under `tasks:`). */
export function explainedByStructure(issue: $ZodIssue, data: Record<string, unknown>): boolean {
  if (issue.path.length !== 1 || (issue.path[0] !== 'tasks' && issue.path[0] !== 'steps')) return false;
  const value = data[issue.path[0]];
  return value === null || (issue.path[0] === 'tasks' && Array.isArray(value));
}

export function checkStructure(data: Record<string, unknown>, issues: readonly $ZodIssue[]): StructureResult {
  const findings: Finding[] = [];
  const empty: StructureResult = { findings, tasks: [], unsure: new Set() };
  const hasTasks = 'tasks' in data;
  const hasSteps = 'steps' in data;
  if (hasTasks && hasSteps) {
    findings.push({
      path: ['steps'],
      at: 'key',
      message: 'use either "tasks" (a mapping of tasks by id) or "steps" (a list run in order), not both',
    });
    return empty;
  }
  if (!hasTasks && !hasSteps) {
    findings.push({
      path: [],
      message: 'the workflow has no "tasks" (a mapping of tasks by id) or "steps" (a list run in order)',
    });
    return empty;
  }
  const key = hasTasks ? 'tasks' : 'steps';
  const container = data[key];
  if (
    container === null ||
    (isObject(container) && Object.keys(container).length === 0) ||
    (Array.isArray(container) && container.length === 0)
  ) {
    findings.push({ path: [key], at: 'key', message: `"${key}" is empty; add at least one task` });
    return empty;
  }
  if (hasTasks && Array.isArray(container)) {
    findings.push({
      path: ['tasks'],
      message:
        '"tasks" must be a mapping of task id to task (got a list); a list of steps run in order is called "steps"',
    });
    return empty;
  }
  const tasks = hasTasks ? readTasks(container) : readSteps(container, findings);
  if (!tasks) return empty;
  markBroken(tasks, issues);

  for (const task of tasks) {
    findings.push(...checkTaskShape(task));
    if (hasTasks && !TASK_ID.test(task.id))
      findings.push({ path: task.path, at: 'key', message: badId('task id', task.id) });
  }
  return { findings: [...findings, ...checkGraph(tasks)], tasks, unsure: unsureTasks(tasks) };
}

function readTasks(container: unknown): RawTask[] | undefined {
  if (!isObject(container)) return undefined;
  return Object.entries(container).map(([id, spec]) => {
    const deps = isObject(spec) ? spec.depends_on : undefined;
    return {
      id,
      who: `task "${id}"`,
      path: ['tasks', id],
      spec: isObject(spec) ? spec : undefined,
      dependsOn: depList(deps),
      explicitDeps: deps !== undefined,
      broken: new Set(),
    };
  });
}

/** Mirrors `stepsToTasks`: ids default to step_<n>, each step waits for the one before. */
function readSteps(container: unknown, findings: Finding[]): RawTask[] | undefined {
  if (!Array.isArray(container)) return undefined;
  const firstUse = new Map<string, number>();
  let previous: string | undefined;
  return container.map((spec, index): RawTask => {
    const written = isObject(spec) ? spec.id : undefined;
    const id = typeof written === 'string' ? written : `step_${index + 1}`;
    if (typeof written === 'string' && !TASK_ID.test(written)) {
      findings.push({ path: ['steps', index, 'id'], message: badId('step id', written) });
    }
    const earlier = firstUse.get(id);
    if (earlier !== undefined) {
      findings.push({
        path: ['steps', index, 'id'],
        message: `step id "${id}" is already used by step ${earlier + 1}; ids must be unique`,
      });
    } else firstUse.set(id, index);
    const deps = isObject(spec) ? spec.depends_on : undefined;
    const dependsOn = deps !== undefined ? depList(deps) : previous === undefined ? [] : [previous];
    previous = id;
    const who = typeof written === 'string' ? `step "${written}"` : `step ${index + 1}`;
    return {
      id,
      who,
      path: ['steps', index],
      spec: isObject(spec) ? spec : undefined,
      dependsOn,
      explicitDeps: deps !== undefined,
      broken: new Set(),
    };
  });
}

function depList(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

const TASK_KEYS = Object.keys(stepSchema.shape);

function markBroken(tasks: RawTask[], issues: readonly $ZodIssue[]): void {
  const byPath = new Map(tasks.map((t) => [`${String(t.path[0])}/${String(t.path[1])}`, t]));
  for (const issue of issues) {
    const task = byPath.get(`${String(issue.path[0])}/${String(issue.path[1])}`);
    if (!task) continue;
    if (issue.path.length > 2) task.broken.add(String(issue.path[2]));
    else if (issue.code !== 'unrecognized_keys') task.broken.add('');
    // A misspelt key (`depend_on`, `input`) stands for the field it resembles: that field is unreliable.
    else for (const key of issue.keys) task.broken.add(closest(key, TASK_KEYS) ?? key);
  }
  for (const task of tasks) if (!task.spec) task.broken.add('');
}

function checkTaskShape(task: RawTask): Finding[] {
  const spec = task.spec;
  if (!spec) return [];
  const who = task.who;
  if ('action' in spec && 'run' in spec) {
    return [
      {
        path: [...task.path, 'run'],
        at: 'key',
        message: `${who} has both "action" and "run"; keep one ("run" is short for the shell action)`,
      },
    ];
  }
  const misspelt = task.broken.has('action') || task.broken.has('run');
  if (!('action' in spec) && !('run' in spec) && !misspelt) {
    return [
      {
        path: task.path,
        at: 'key',
        message: `${who} needs "action" (an action id) or "run" (a shell command)`,
      },
    ];
  }
  // normalize() drops these silently; say so instead of letting a value vanish.
  const ignored = 'run' in spec ? ['inputs'] : ['env', 'cwd'];
  return ignored
    .filter((field) => field in spec)
    .map((field) => ({
      path: [...task.path, field],
      at: 'key' as const,
      message:
        field === 'inputs'
          ? `${who}: "inputs" does nothing with "run"; pass values to the command through "env" or \${ } in "run"`
          : `${who}: "${field}" only applies to "run" tasks; pass it to the action through "inputs"`,
    }));
}

function badId(what: string, id: string): string {
  const fixed = id.replace(/[^A-Za-z0-9_]/g, '_').replace(/^(?=[0-9])/, '_');
  return `${what} "${id}" is not valid: ids are used in expressions like tasks.<id>.output, so they use letters, digits and "_" and do not start with a digit; try "${fixed}"`;
}

function depPath(task: RawTask, index: number): Path {
  return Array.isArray(task.spec?.depends_on)
    ? [...task.path, 'depends_on', index]
    : [...task.path, 'depends_on'];
}

function checkGraph(tasks: RawTask[]): Finding[] {
  const findings: Finding[] = [];
  const ids = tasks.map((t) => t.id);
  const byId = new Map(tasks.map((t) => [t.id, t]));
  // Implied step order cannot be wrong on its own; only what the user wrote is checked.
  const written = tasks.map((t) => ({
    id: t.id,
    dependsOn: t.explicitDeps && !t.broken.has('depends_on') ? t.dependsOn : [],
  }));
  for (const issue of findDependencyIssues(written)) {
    const task = byId.get(issue.task) as RawTask;
    const path = depPath(task, issue.index);
    if (issue.kind === 'self') findings.push({ path, message: `${task.who} depends on itself` });
    else if (issue.kind === 'duplicate') {
      findings.push({
        path,
        message: `${task.who} lists "${issue.dependency}" more than once in depends_on`,
      });
    } else {
      findings.push({
        path,
        message: `${task.who} depends on "${issue.dependency}", which does not exist${didYouMean(issue.dependency, ids)}`,
      });
    }
  }
  for (const cycle of findCycles(tasks)) {
    const first = byId.get(cycle[0] as string) as RawTask;
    findings.push({
      path: [...first.path, 'depends_on'],
      at: 'key',
      message: `cycle in depends_on: ${cycle.join(' -> ')}`,
    });
  }
  return findings;
}

/** Tasks whose dependencies are broken or unknown, and everything downstream of them. */
function unsureTasks(tasks: RawTask[]): Set<string> {
  const ids = new Set(tasks.map((t) => t.id));
  const roots = tasks.filter(
    (t) =>
      t.broken.has('') ||
      t.broken.has('depends_on') ||
      t.broken.has('id') ||
      t.dependsOn.some((d) => d === t.id || !ids.has(d)),
  );
  const unsure = new Set(roots.map((t) => t.id));
  for (const task of tasks) {
    for (const above of upstreamOf(tasks, task.id)) if (unsure.has(above)) unsure.add(task.id);
  }
  return unsure;
}
