import { describe, expect, it } from 'vitest';
import { formatDuration } from '../../../views/components/time.tsx';
import { layoutGraph } from '../../../views/graph-layout.ts';
import { roughGraph } from '../../../views/playground-graph.ts';
import { inputsFromForm } from '../../../views/run-form-values.ts';
import { pollFailing, scheduleLines } from '../../../views/schedule.ts';

describe('run form values', () => {
  const declared = {
    who: { type: 'string' as const, required: true },
    times: { type: 'integer' as const, default: 2 },
    loud: { type: 'boolean' as const },
    mood: { enum: ['calm', 42] },
    tags: { type: 'array' as const },
  };

  it('turns fields into typed inputs, leaving empty ones out so defaults apply', () => {
    const inputs = inputsFromForm(declared, {
      'input.who': 'Ada',
      'input.times': '',
      'input.mood': '1',
      'input.tags': '["a","b"]',
    });
    expect(inputs).toEqual({ who: 'Ada', loud: false, mood: 42, tags: ['a', 'b'] });
  });

  it('reports every field it cannot read', () => {
    expect(() =>
      inputsFromForm(declared, { 'input.times': 'two', 'input.mood': '9', 'input.tags': '[oops' }),
    ).toThrow(/input "times" must be a number.*input "mood" must be one of.*input "tags" must be JSON/);
  });

  it('takes a JSON object when the workflow declares no inputs', () => {
    expect(inputsFromForm(undefined, { inputs_json: '{"a": 1}' })).toEqual({ a: 1 });
    expect(inputsFromForm({}, { inputs_json: '  ' })).toEqual({});
    expect(() => inputsFromForm(undefined, { inputs_json: '[1]' })).toThrow(/must be a JSON object/);
  });
});

describe('rough graph of a file that does not load', () => {
  it('draws tasks and marks the edges of a cycle', () => {
    const graph = roughGraph(
      'tasks:\n  a: { run: x, depends_on: [c] }\n  b: { action: log, depends_on: a }\n  c: { run: y, depends_on: [b] }\n  d: { run: z }\n',
    );
    expect(graph?.nodes.map((n) => `${n.id}:${n.detail}`)).toEqual([
      'a:shell',
      'b:log',
      'c:shell',
      'd:shell',
    ]);
    expect(
      graph?.edges
        .filter((e) => e.cycle)
        .map((e) => `${e.from}->${e.to}`)
        .sort(),
    ).toEqual(['a->b', 'b->c', 'c->a']);
  });

  it('follows steps in order, and gives up on YAML it cannot parse', () => {
    const graph = roughGraph('steps:\n  - run: a\n  - id: two\n    run: b\n');
    expect(graph?.edges).toEqual([{ from: 'step_1', to: 'two' }]);
    expect(roughGraph('tasks: [')).toBeUndefined();
  });
});

describe('graph layout', () => {
  it('lays out left to right, skips unknown and self edges, and reuses a layout for the same shape', () => {
    const nodes = [{ id: 'a' }, { id: 'b', status: 'failed' }];
    const edges = [
      { from: 'a', to: 'b' },
      { from: 'x', to: 'b' },
      { from: 'b', to: 'b' },
    ];
    const first = layoutGraph(nodes, edges);
    expect(first.direction).toBe('LR');
    expect(first.edges).toHaveLength(1);
    const [a, b] = first.nodes;
    expect((b?.x ?? 0) > (a?.x ?? 0)).toBe(true);
    const again = layoutGraph([{ id: 'a' }, { id: 'b', status: 'succeeded' }], edges);
    expect(again.nodes[1]).toMatchObject({ x: b?.x, y: b?.y, status: 'succeeded' });
  });

  it('draws long chains top to bottom', () => {
    const nodes = Array.from({ length: 12 }, (_, i) => ({ id: `t${i}` }));
    const edges = nodes.slice(1).map((n, i) => ({ from: `t${i}`, to: n.id }));
    expect(layoutGraph(nodes, edges).direction).toBe('TB');
  });
});

describe('durations', () => {
  it('reads at a glance', () => {
    expect([850, 4200, 192_000, 3_840_000, null].map(formatDuration)).toEqual([
      '850 ms',
      '4.2 s',
      '3 m 12 s',
      '1 h 4 m',
      '—',
    ]);
  });
});

describe('schedule lines', () => {
  it("take every next time the summary has (the scheduler's), none while paused", () => {
    const entry = {
      id: 'morning',
      cron: '0 6 * * *',
      timezone: 'Europe/Berlin',
      overlap: 'queue' as const,
      catchup: 'latest' as const,
      catchup_limit: 10,
      next_run_at: '2026-01-02T05:00:00.000Z' as string | null,
      next_runs: ['2026-01-02T05:00:00.000Z', '2026-01-03T05:00:00.000Z'],
    };
    const summary = (schedule: (typeof entry)[], paused: boolean) =>
      ({ triggers: { schedule, schedule_paused: paused } }) as unknown as Parameters<typeof scheduleLines>[0];
    const [line] = scheduleLines(summary([entry], false));
    expect(line).toMatchObject({
      id: 'morning',
      timezone: 'Europe/Berlin',
      overlap: 'queue',
      catchup: 'latest',
    });
    expect(line?.next.map((d) => d.toISOString())).toEqual(entry.next_runs);
    const [paused] = scheduleLines(summary([{ ...entry, next_run_at: null, next_runs: [] }], true));
    expect(paused?.next).toEqual([]);
  });

  it('call a poller failing once a poll failed, not before its first poll', () => {
    expect(pollFailing(null)).toBe(false);
    expect(pollFailing({ failures: 0 } as Parameters<typeof pollFailing>[0])).toBe(false);
    expect(pollFailing({ failures: 1 } as Parameters<typeof pollFailing>[0])).toBe(true);
  });
});
