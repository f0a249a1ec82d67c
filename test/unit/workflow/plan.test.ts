import { describe, expect, it } from 'vitest';
import { nextTimes } from '../../../src/triggers/schedule-times.ts';
import { loadWorkflowText } from '../../../src/workflow/loader.ts';
import { diffPlan, type PlanSide } from '../../../src/workflow/plan.ts';

const NOW = new Date('2026-01-01T00:00:00Z');

function side(files: Record<string, string>, actions: Record<string, string> = {}): PlanSide {
  return {
    workflows: Object.entries(files).map(([file, text]) => {
      const r = loadWorkflowText(text, { file, defaultName: file.replace(/^workflows\/|\.ya?ml$/g, '') });
      return { file, text, problems: r.problems, ...(r.workflow && { workflow: r.workflow }) };
    }),
    actions: new Map(Object.entries(actions)),
  };
}

const plan = (base: PlanSide, head: PlanSide) => diffPlan(base, head, { now: NOW, actions: new Map() });

const A = `name: a
tasks:
  one:
    action: log
    inputs: { message: hi }
  two:
    action: log
    depends_on: [one]
    inputs: { message: there }
`;

describe('diffPlan', () => {
  it('finds workflows added, removed and renamed', () => {
    const p = plan(
      side({ 'workflows/a.yaml': A, 'workflows/gone.yaml': A.replace('name: a', 'name: gone') }),
      side({ 'workflows/moved/a.yaml': A, 'workflows/new.yaml': A.replace('name: a', 'name: new') }),
    );
    expect(p.workflows.added).toEqual([{ name: 'new', file: 'workflows/new.yaml' }]);
    expect(p.workflows.removed).toEqual([{ name: 'gone', file: 'workflows/gone.yaml' }]);
    expect(p.workflows.renamed).toEqual([
      { name: 'a', from: 'workflows/a.yaml', to: 'workflows/moved/a.yaml' },
    ]);
    expect(p.workflows.changed).toEqual([]);
  });

  it('pairs a workflow whose name changed by its content', () => {
    const p = plan(side({ 'workflows/a.yaml': A }), side({ 'workflows/b.yaml': A }));
    // Both files have `name: a`: same name, new file.
    expect(p.workflows.renamed[0]).toMatchObject({ from: 'workflows/a.yaml', to: 'workflows/b.yaml' });
    const noName = A.replace('name: a\n', '');
    const q = plan(side({ 'workflows/x.yaml': noName }), side({ 'workflows/y.yaml': noName }));
    expect(q.workflows.renamed).toEqual([
      { name: 'y', fromName: 'x', from: 'workflows/x.yaml', to: 'workflows/y.yaml' },
    ]);
  });

  it('lists tasks added, removed and each kind of change', () => {
    const head = `name: a
tasks:
  one:
    action: http.request
    if: \${true}
    when: always
    retry: { attempts: 3 }
    timeout: 5s
    inputs: { message: changed }
  three:
    action: log
    depends_on: [one]
    inputs: { message: new }
`;
    const p = plan(side({ 'workflows/a.yaml': A }), side({ 'workflows/a.yaml': head }));
    expect(p.workflows.changed).toHaveLength(1);
    const tasks = p.workflows.changed[0]?.tasks;
    expect(tasks?.added).toEqual(['three']);
    expect(tasks?.removed).toEqual(['two']);
    expect(tasks?.changed).toEqual([
      { id: 'one', fields: ['action', 'inputs', 'retry', 'timeout', 'if', 'when'] },
    ]);
    const deps = A.replace('depends_on: [one]', 'depends_on: []');
    const q = plan(side({ 'workflows/a.yaml': A }), side({ 'workflows/a.yaml': deps }));
    expect(q.workflows.changed[0]?.tasks.changed).toEqual([{ id: 'two', fields: ['depends_on'] }]);
  });

  it('reports webhooks added and verification changed, with the secrets newly required', () => {
    const hooked = A.replace('tasks:', 'on:\n  webhook: { verify: none }\ntasks:');
    const signed = A.replace('tasks:', 'on:\n  webhook: { verify: github, secret: GH_SECRET }\ntasks:');
    const added = plan(side({ 'workflows/a.yaml': A }), side({ 'workflows/a.yaml': hooked }));
    expect(added.workflows.changed[0]?.webhook).toEqual({ change: 'added', after: 'none' });
    const verified = plan(side({ 'workflows/a.yaml': hooked }), side({ 'workflows/a.yaml': signed }));
    expect(verified.workflows.changed[0]?.webhook).toEqual({
      change: 'verification',
      before: 'none',
      after: 'github (secret GH_SECRET)',
    });
    expect(verified.secrets).toEqual([{ name: 'GH_SECRET', workflow: 'a', where: 'on.webhook' }]);
  });

  it('shows the next three fire times of a changed schedule before and after', () => {
    const at = (cron: string) => A.replace('tasks:', `on:\n  schedule:\n    - cron: "${cron}"\ntasks:`);
    const p = plan(
      side({ 'workflows/a.yaml': at('0 * * * *') }),
      side({ 'workflows/a.yaml': at('0 3 * * *') }),
    );
    const s = p.workflows.changed[0]?.schedule;
    const iso = (cron: string) => nextTimes({ cron, timezone: 'UTC' }, NOW, 3).map((d) => d.toISOString());
    expect(s?.before).toEqual([{ cron: '0 * * * *', timezone: 'UTC', next: iso('0 * * * *') }]);
    expect(s?.after).toEqual([{ cron: '0 3 * * *', timezone: 'UTC', next: iso('0 3 * * *') }]);
    expect(s?.after[0]?.next).toEqual([
      '2026-01-01T03:00:00.000Z',
      '2026-01-02T03:00:00.000Z',
      '2026-01-03T03:00:00.000Z',
    ]);
  });

  it('finds connections and secrets newly required, and only new ones', () => {
    const head = A.replace(
      'inputs: { message: hi }',
      'inputs: { message: "${secrets.TOKEN}", connection: github }',
    );
    const p = plan(side({ 'workflows/a.yaml': A }), side({ 'workflows/a.yaml': head }));
    expect(p.secrets).toEqual([{ name: 'TOKEN', workflow: 'a', where: 'task "one"' }]);
    expect(p.connections).toEqual([{ name: 'github', workflow: 'a', where: 'task "one"' }]);
    expect(plan(side({ 'workflows/a.yaml': head }), side({ 'workflows/a.yaml': head })).secrets).toEqual([]);
  });

  it('lists action files added, removed and changed, with the workflows using a changed one', () => {
    const p = plan(
      side({ 'workflows/a.yaml': A }, { 'actions/log.ts': 'v1', 'actions/old.ts': 'x' }),
      side({ 'workflows/a.yaml': A }, { 'actions/log.ts': 'v2', 'actions/new.ts': 'y' }),
    );
    expect(p.actions).toEqual({
      added: ['actions/new.ts'],
      removed: ['actions/old.ts'],
      changed: [{ file: 'actions/log.ts', id: 'log', usedBy: ['a'] }],
    });
  });

  it('collects every problem of the head, with its line', () => {
    const broken = A.replace('depends_on: [one]', 'depends_on: [nope]');
    const p = plan(side({ 'workflows/a.yaml': A }), side({ 'workflows/a.yaml': broken }));
    expect(p.problems.length).toBeGreaterThan(0);
    expect(p.problems[0]).toMatchObject({ file: 'workflows/a.yaml', line: 8 });
    // The file is still there, so the workflow is broken, not removed.
    expect(p.workflows.removed).toEqual([]);
  });
});
