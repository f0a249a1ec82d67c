import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { Problem } from '../errors.ts';
import type { AnyAction } from '../plugins/define-action.ts';
import { nextTimes } from '../triggers/schedule-times.ts';
import { secretsNeeded } from './secret-refs.ts';
import type { ScheduleTrigger, TaskSpec, Workflow } from './types.ts';

/** One workflow file of one side, loaded. */
export interface PlanFile {
  /** Relative to the repository root. */
  file: string;
  text: string;
  workflow?: Workflow;
  problems: Problem[];
}

/** One side of the plan: its workflow files and its action files (path → text). */
export interface PlanSide {
  workflows: PlanFile[];
  actions: Map<string, string>;
}

export type TaskField =
  | 'action'
  | 'inputs'
  | 'depends_on'
  | 'retry'
  | 'timeout'
  | 'if'
  | 'when'
  | 'continue_on_error';

export interface TaskChange {
  id: string;
  fields: TaskField[];
}

export interface ScheduleChange {
  before: { cron: string; timezone: string; next: string[] }[];
  after: { cron: string; timezone: string; next: string[] }[];
}

export interface WorkflowChange {
  name: string;
  file: string;
  /** Set when the workflow moved from another file. */
  renamedFrom?: string;
  tasks: { added: string[]; removed: string[]; changed: TaskChange[] };
  webhook?: { change: 'added' | 'removed' | 'verification'; before?: string; after?: string };
  schedule?: ScheduleChange;
}

export interface Plan {
  workflows: {
    added: { name: string; file: string }[];
    removed: { name: string; file: string }[];
    renamed: { name: string; from: string; to: string; fromName?: string }[];
    changed: WorkflowChange[];
  };
  secrets: { name: string; workflow: string; where: string }[];
  connections: { name: string; workflow: string; where: string }[];
  actions: {
    added: string[];
    removed: string[];
    changed: { file: string; id: string; usedBy: string[] }[];
  };
  problems: Problem[];
}

const hash = (text: string) => createHash('sha256').update(text).digest('hex');
const idOf = (file: string) => (file.split('/').pop() ?? file).replace(/\.(m?[jt]s)$/, '');

function taskFields(a: TaskSpec, b: TaskSpec): TaskField[] {
  const fields: [TaskField, unknown, unknown][] = [
    ['action', a.action, b.action],
    ['inputs', a.inputs, b.inputs],
    ['depends_on', [...a.dependsOn].sort(), [...b.dependsOn].sort()],
    ['retry', a.retry, b.retry],
    ['timeout', a.timeoutMs, b.timeoutMs],
    ['if', a.if, b.if],
    ['when', a.when, b.when],
    ['continue_on_error', a.continueOnError, b.continueOnError],
  ];
  return fields.filter(([, x, y]) => !isDeepStrictEqual(x, y)).map(([f]) => f);
}

function verification(w: Workflow): string | undefined {
  const hook = w.triggers.webhook;
  if (!hook) return undefined;
  return hook.verify === 'none' ? 'none' : `${hook.verify} (secret ${hook.secret})`;
}

const scheduleShape = (s: ScheduleTrigger[] = []) =>
  s.map(({ cron, timezone, inputs, overlap, catchup, catchupLimit }) => ({
    cron,
    timezone,
    inputs,
    overlap,
    catchup,
    catchupLimit,
  }));

function upcoming(s: ScheduleTrigger[] = [], now: Date) {
  return s.map(({ cron, timezone }) => ({
    cron,
    timezone,
    next: nextTimes({ cron, timezone }, now, 3).map((d) => d.toISOString()),
  }));
}

function diffWorkflow(base: Workflow, head: Workflow, now: Date): WorkflowChange | undefined {
  const change: WorkflowChange = {
    name: head.name,
    file: head.source.file,
    tasks: { added: [], removed: [], changed: [] },
  };
  const before = new Map(base.tasks.map((t) => [t.id, t]));
  const after = new Map(head.tasks.map((t) => [t.id, t]));
  for (const t of head.tasks) {
    const old = before.get(t.id);
    if (!old) change.tasks.added.push(t.id);
    else {
      const fields = taskFields(old, t);
      if (fields.length > 0) change.tasks.changed.push({ id: t.id, fields });
    }
  }
  change.tasks.removed = base.tasks.filter((t) => !after.has(t.id)).map((t) => t.id);
  const vb = verification(base);
  const va = verification(head);
  if (vb !== va) {
    const kind = vb === undefined ? 'added' : va === undefined ? 'removed' : 'verification';
    change.webhook = { change: kind, ...(vb && { before: vb }), ...(va && { after: va }) };
  }
  if (!isDeepStrictEqual(scheduleShape(base.triggers.schedule), scheduleShape(head.triggers.schedule))) {
    change.schedule = {
      before: upcoming(base.triggers.schedule, now),
      after: upcoming(head.triggers.schedule, now),
    };
  }
  const { tasks } = change;
  const empty = !tasks.added.length && !tasks.removed.length && !tasks.changed.length;
  return empty && !change.webhook && !change.schedule ? undefined : change;
}

/** `connection:` inputs of tasks (and the poll trigger), by name. */
export function connectionsNeeded(w: Workflow): { name: string; where: string }[] {
  const out: { name: string; where: string }[] = [];
  const poll = w.triggers.poll?.inputs.connection;
  if (typeof poll === 'string') out.push({ name: poll, where: 'on.poll' });
  for (const t of w.tasks) {
    const c = t.inputs.connection;
    if (typeof c === 'string') out.push({ name: c, where: `task "${t.id}"` });
  }
  return out;
}

/**
 * The semantic difference between two sides: pure, so it is tested without git. `now` anchors
 * the schedules' next fire times; `actions` is the catalogue used for the secrets actions declare.
 */
export function diffPlan(
  base: PlanSide,
  head: PlanSide,
  options: { now: Date; actions: ReadonlyMap<string, AnyAction> },
): Plan {
  const { now, actions } = options;
  const plan: Plan = {
    workflows: { added: [], removed: [], renamed: [], changed: [] },
    secrets: [],
    connections: [],
    actions: { added: [], removed: [], changed: [] },
    problems: head.workflows.flatMap((f) => f.problems),
  };
  const baseOk = base.workflows.filter((f) => f.workflow) as Required<PlanFile>[];
  const headOk = head.workflows.filter((f) => f.workflow) as Required<PlanFile>[];
  const matched = new Set<PlanFile>();
  const pairs: [Required<PlanFile>, Required<PlanFile>][] = [];
  // Pair by name first, then unmatched ones by content (a file moved and renamed unchanged).
  for (const h of headOk) {
    const b = baseOk.find((x) => !matched.has(x) && x.workflow.name === h.workflow.name);
    if (b) {
      matched.add(b);
      matched.add(h);
      pairs.push([b, h]);
    }
  }
  for (const h of headOk) {
    if (matched.has(h)) continue;
    const b = baseOk.find((x) => !matched.has(x) && hash(x.text) === hash(h.text));
    if (b) {
      matched.add(b);
      matched.add(h);
      pairs.push([b, h]);
    }
  }
  for (const [b, h] of pairs) {
    const renamed = b.file !== h.file || b.workflow.name !== h.workflow.name;
    if (renamed) {
      plan.workflows.renamed.push({
        name: h.workflow.name,
        from: b.file,
        to: h.file,
        ...(b.workflow.name !== h.workflow.name && { fromName: b.workflow.name }),
      });
    }
    const change = diffWorkflow(b.workflow, h.workflow, now);
    if (change) plan.workflows.changed.push(renamed ? { ...change, renamedFrom: b.file } : change);
  }
  for (const h of headOk)
    if (!matched.has(h)) plan.workflows.added.push({ name: h.workflow.name, file: h.file });
  // A file still there but broken is not removed: its problems say what is wrong.
  const headFiles = new Set(head.workflows.map((f) => f.file));
  for (const b of baseOk)
    if (!matched.has(b) && !headFiles.has(b.file))
      plan.workflows.removed.push({ name: b.workflow.name, file: b.file });

  const baseSecrets = new Set(baseOk.flatMap((f) => secretsNeeded(f.workflow, actions).map((n) => n.name)));
  const baseConns = new Set(baseOk.flatMap((f) => connectionsNeeded(f.workflow).map((n) => n.name)));
  for (const f of headOk) {
    for (const n of secretsNeeded(f.workflow, actions)) {
      if (baseSecrets.has(n.name) || plan.secrets.some((s) => s.name === n.name)) continue;
      plan.secrets.push({ ...n, workflow: f.workflow.name });
    }
    for (const n of connectionsNeeded(f.workflow)) {
      if (baseConns.has(n.name) || plan.connections.some((c) => c.name === n.name)) continue;
      plan.connections.push({ ...n, workflow: f.workflow.name });
    }
  }

  for (const [file, text] of head.actions) {
    const old = base.actions.get(file);
    if (old === undefined) plan.actions.added.push(file);
    else if (old !== text) {
      const id = idOf(file);
      const usedBy = headOk
        .filter(
          (f) => f.workflow.tasks.some((t) => t.action === id) || f.workflow.triggers.poll?.action === id,
        )
        .map((f) => f.workflow.name);
      plan.actions.changed.push({ file, id, usedBy });
    }
  }
  plan.actions.removed = [...base.actions.keys()].filter((f) => !head.actions.has(f));
  return plan;
}

/** True when nothing differs and the head has no problems. */
export function isEmptyPlan(plan: Plan): boolean {
  const { workflows: w, actions: a } = plan;
  return [
    w.added,
    w.removed,
    w.renamed,
    w.changed,
    plan.secrets,
    plan.connections,
    a.added,
    a.removed,
    a.changed,
    plan.problems,
  ].every((list) => list.length === 0);
}
