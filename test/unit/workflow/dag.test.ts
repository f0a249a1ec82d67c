import { describe, expect, it } from 'vitest';
import {
  findCycle,
  findCycles,
  findDependencyIssues,
  findUnknownDependencies,
  formatPlan,
  type GraphTask,
  planLevels,
  upstreamOf,
} from '../../../src/workflow/dag.ts';

const graph = (spec: Record<string, string[]>): GraphTask[] =>
  Object.entries(spec).map(([id, dependsOn]) => ({ id, dependsOn }));

// A; B and D after A; C after B; E after C and D.
const pipeline = graph({ A: [], B: ['A'], C: ['B'], D: ['A'], E: ['C', 'D'] });

describe('planLevels / formatPlan', () => {
  it('groups the five-task pipeline by longest path from a root', () => {
    expect(planLevels(pipeline)).toEqual([['A'], ['B', 'D'], ['C'], ['E']]);
    expect(formatPlan(planLevels(pipeline))).toBe('A -> [B, D] -> C -> E');
  });

  it('keeps file order within a level', () => {
    const tasks = graph({ z: [], a: [], m: ['z', 'a'] });
    expect(planLevels(tasks)).toEqual([['z', 'a'], ['m']]);
    expect(formatPlan(planLevels(tasks))).toBe('[z, a] -> m');
  });

  it('plans a diamond', () => {
    const diamond = graph({ top: [], left: ['top'], right: ['top'], bottom: ['left', 'right'] });
    expect(formatPlan(planLevels(diamond))).toBe('top -> [left, right] -> bottom');
  });

  it('places a task by its longest chain, not its shortest', () => {
    const tasks = graph({ a: [], b: ['a'], c: ['b'], d: ['a', 'c'] });
    expect(planLevels(tasks)).toEqual([['a'], ['b'], ['c'], ['d']]);
  });

  it('works when dependencies come later in the file', () => {
    expect(planLevels(graph({ last: ['first'], first: [] }))).toEqual([['first'], ['last']]);
  });

  it('plans long chains without recursion', () => {
    const chain: GraphTask[] = Array.from({ length: 5000 }, (_, i) => ({
      id: `t${i}`,
      dependsOn: i ? [`t${i - 1}`] : [],
    }));
    const levels = planLevels(chain);
    expect(levels).toHaveLength(5000);
    expect(levels[4999]).toEqual(['t4999']);
  });

  it('refuses a cyclic graph', () => {
    expect(() => planLevels(graph({ a: ['b'], b: ['a'] }))).toThrow('cycle in depends_on: a -> b -> a');
  });

  it('formats a single task and nothing', () => {
    expect(formatPlan([['only']])).toBe('only');
    expect(formatPlan([])).toBe('');
  });
});

describe('findCycle', () => {
  it('is undefined for a DAG', () => {
    expect(findCycle(pipeline)).toBeUndefined();
  });

  it('names the cycle from the first task in file order, ending where it started', () => {
    const tasks = graph({ start: [], c: ['a'], a: ['start', 'b'], b: ['c'] });
    expect(findCycle(tasks)).toEqual(['c', 'a', 'b', 'c']);
    expect(findCycle(tasks)?.join(' -> ')).toBe('c -> a -> b -> c');
  });

  it('finds a two-task cycle', () => {
    expect(findCycle(graph({ a: ['b'], b: ['a'] }))).toEqual(['a', 'b', 'a']);
  });

  it('reports each separate cycle once, shortest loop through its first task', () => {
    const tasks = graph({ a: ['b'], b: ['a', 'c'], c: ['a'], x: ['y'], y: ['x'], z: ['x'] });
    expect(findCycles(tasks)).toEqual([
      ['a', 'b', 'a'],
      ['x', 'y', 'x'],
    ]);
  });

  it('ignores self-dependencies and unknown ids (reported separately)', () => {
    expect(findCycle(graph({ a: ['a', 'ghost'] }))).toBeUndefined();
  });

  it('handles long chains without recursion', () => {
    const tasks: GraphTask[] = Array.from({ length: 5000 }, (_, i) => ({
      id: `t${i}`,
      dependsOn: i === 0 ? ['t4999'] : [`t${i - 1}`],
    }));
    expect(findCycle(tasks)?.length).toBe(5001);
  });
});

describe('dependency issues', () => {
  it('finds unknown targets, self-dependencies and repeats with their index', () => {
    const tasks = graph({ a: [], b: ['a', 'b', 'a', 'nope'] });
    expect(findDependencyIssues(tasks)).toEqual([
      { task: 'b', dependency: 'b', index: 1, kind: 'self' },
      { task: 'b', dependency: 'a', index: 2, kind: 'duplicate' },
      { task: 'b', dependency: 'nope', index: 3, kind: 'unknown' },
    ]);
    expect(findUnknownDependencies(tasks)).toEqual([
      { task: 'b', dependency: 'nope', index: 3, kind: 'unknown' },
    ]);
  });
});

describe('upstreamOf', () => {
  it('collects transitive ancestors', () => {
    expect(upstreamOf(pipeline, 'E')).toEqual(new Set(['A', 'B', 'C', 'D']));
    expect(upstreamOf(pipeline, 'C')).toEqual(new Set(['A', 'B']));
    expect(upstreamOf(pipeline, 'A')).toEqual(new Set());
  });

  it('does not include siblings in a diamond', () => {
    const diamond = graph({ top: [], left: ['top'], right: ['top'], bottom: ['left', 'right'] });
    expect(upstreamOf(diamond, 'left')).toEqual(new Set(['top']));
    expect(upstreamOf(diamond, 'bottom')).toEqual(new Set(['top', 'left', 'right']));
  });

  it('ignores unknown ids', () => {
    expect(upstreamOf(graph({ a: ['ghost'] }), 'a')).toEqual(new Set());
  });
});
