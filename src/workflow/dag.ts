/** Graph checks and planning over tasks linked by `dependsOn`. Order of `tasks` is file order. */

export interface GraphTask {
  id: string;
  dependsOn: readonly string[];
}

export interface DependencyIssue {
  task: string;
  dependency: string;
  /** Index in the task's depends_on list. */
  index: number;
  kind: 'unknown' | 'self' | 'duplicate';
}

/** Every depends_on entry that names no task, the task itself, or repeats an earlier entry. */
export function findDependencyIssues(tasks: readonly GraphTask[]): DependencyIssue[] {
  const ids = new Set(tasks.map((t) => t.id));
  const issues: DependencyIssue[] = [];
  for (const task of tasks) {
    const seen = new Set<string>();
    task.dependsOn.forEach((dependency, index) => {
      const base = { task: task.id, dependency, index };
      if (dependency === task.id) issues.push({ ...base, kind: 'self' });
      else if (!ids.has(dependency)) issues.push({ ...base, kind: 'unknown' });
      else if (seen.has(dependency)) issues.push({ ...base, kind: 'duplicate' });
      seen.add(dependency);
    });
  }
  return issues;
}

export function findUnknownDependencies(tasks: readonly GraphTask[]): DependencyIssue[] {
  return findDependencyIssues(tasks).filter((issue) => issue.kind === 'unknown');
}

/** Known dependencies of each task, without self-edges, unknown ids or repeats. */
function edges(tasks: readonly GraphTask[]): Map<string, string[]> {
  const ids = new Set(tasks.map((t) => t.id));
  return new Map(
    tasks.map((t) => [t.id, [...new Set(t.dependsOn)].filter((d) => d !== t.id && ids.has(d))] as const),
  );
}

/**
 * One cycle per group of tasks that wait on each other, as `[a, b, c, a]` (a depends on b, ...).
 * Each starts at the group's first task in file order and is the shortest loop through it.
 * Self-dependencies are not cycles here; `findDependencyIssues` reports them.
 */
export function findCycles(tasks: readonly GraphTask[]): string[][] {
  const graph = edges(tasks);
  const order = new Map(tasks.map((t, i) => [t.id, i]));
  return stronglyConnected(graph)
    .filter((group) => group.length > 1)
    .map((group) => {
      const members = new Set(group);
      const start = [...group].sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0))[0] as string;
      return shortestLoop(graph, members, start);
    })
    .sort((a, b) => (order.get(a[0] as string) ?? 0) - (order.get(b[0] as string) ?? 0));
}

export function findCycle(tasks: readonly GraphTask[]): string[] | undefined {
  return findCycles(tasks)[0];
}

/** Breadth-first from `start` back to itself inside its component, so the loop is shortest. */
function shortestLoop(graph: Map<string, string[]>, members: Set<string>, start: string): string[] {
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const id = queue.shift() as string;
    for (const next of graph.get(id) ?? []) {
      if (!members.has(next)) continue;
      if (next === start) {
        const path = [id];
        for (let at = id; at !== start; ) {
          at = previous.get(at) as string;
          path.unshift(at);
        }
        return [...path, start];
      }
      if (!previous.has(next)) {
        previous.set(next, id);
        queue.push(next);
      }
    }
  }
  return [start, start];
}

/** Tarjan's algorithm, iterative so deep chains cannot overflow the stack. */
function stronglyConnected(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const groups: string[][] = [];
  let counter = 0;
  for (const root of graph.keys()) {
    if (index.has(root)) continue;
    const work: { id: string; next: number }[] = [{ id: root, next: 0 }];
    index.set(root, counter);
    low.set(root, counter++);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const frame = work[work.length - 1] as { id: string; next: number };
      const deps = graph.get(frame.id) ?? [];
      if (frame.next < deps.length) {
        const dep = deps[frame.next++] as string;
        if (!index.has(dep)) {
          index.set(dep, counter);
          low.set(dep, counter++);
          stack.push(dep);
          onStack.add(dep);
          work.push({ id: dep, next: 0 });
        } else if (onStack.has(dep)) {
          low.set(frame.id, Math.min(low.get(frame.id) ?? 0, index.get(dep) ?? 0));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.id, Math.min(low.get(parent.id) ?? 0, low.get(frame.id) ?? 0));
      if (low.get(frame.id) === index.get(frame.id)) {
        const group: string[] = [];
        let member: string | undefined;
        do {
          member = stack.pop() as string;
          onStack.delete(member);
          group.push(member);
        } while (member !== frame.id);
        groups.push(group);
      }
    }
  }
  return groups;
}

/** Every task `id` waits for, directly or through others (not `id` itself unless in a cycle). */
export function upstreamOf(tasks: readonly GraphTask[], id: string): Set<string> {
  const graph = edges(tasks);
  const found = new Set<string>();
  const pending = [...(graph.get(id) ?? [])];
  while (pending.length > 0) {
    const next = pending.pop() as string;
    if (found.has(next)) continue;
    found.add(next);
    pending.push(...(graph.get(next) ?? []));
  }
  return found;
}

/**
 * Tasks grouped by level: a task's level is the longest chain of dependencies above it, so a
 * level only starts once every earlier level could have finished. Ids keep file order.
 * Throws on a cycle (validate first).
 */
export function planLevels(tasks: readonly GraphTask[]): string[][] {
  const cycle = findCycle(tasks);
  if (cycle) throw new Error(`cycle in depends_on: ${cycle.join(' -> ')}`);
  const graph = edges(tasks);
  // Kahn's order: a task is placed once all its dependencies are, one level below the deepest.
  const waiting = new Map([...graph].map(([id, deps]) => [id, deps.length]));
  const dependents = new Map<string, string[]>();
  for (const [id, deps] of graph) {
    for (const dep of deps) {
      const list = dependents.get(dep);
      if (list) list.push(id);
      else dependents.set(dep, [id]);
    }
  }
  const level = new Map<string, number>();
  const ready = [...graph.keys()].filter((id) => waiting.get(id) === 0);
  for (const id of ready) level.set(id, 0);
  while (ready.length > 0) {
    const id = ready.pop() as string;
    for (const next of dependents.get(id) ?? []) {
      level.set(next, Math.max(level.get(next) ?? 0, (level.get(id) ?? 0) + 1));
      const left = (waiting.get(next) ?? 0) - 1;
      waiting.set(next, left);
      if (left === 0) ready.push(next);
    }
  }
  const levels: string[][] = [];
  for (const task of tasks) {
    const at = level.get(task.id) ?? 0;
    while (levels.length <= at) levels.push([]);
    levels[at]?.push(task.id);
  }
  return levels;
}

/** `A -> [B, D] -> C -> E`: one level per arrow; levels with several tasks in brackets. */
export function formatPlan(levels: readonly (readonly string[])[]): string {
  return levels
    .filter((l) => l.length > 0)
    .map((l) => (l.length === 1 ? (l[0] as string) : `[${l.join(', ')}]`))
    .join(' -> ');
}
