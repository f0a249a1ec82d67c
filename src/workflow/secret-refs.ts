import type { AnyAction } from '../plugins/define-action.ts';
import { collectExpressions } from './templates.ts';
import type { Workflow } from './types.ts';

/** A secret a workflow reads, and where: `task "notify" input`, `webhook`, `action slack.send`. */
export interface SecretNeed {
  name: string;
  where: string;
}

/** `secrets.NAME` or `secrets["NAME"]` in an expression (a property `x.secrets.Y` is not one). */
const SECRET_REF =
  /(?<![\w$.])secrets\s*(?:\.\s*([A-Za-z_][A-Za-z0-9_]*)|\[\s*(['"])([A-Za-z_][A-Za-z0-9_]*)\2\s*\])/g;

export function secretsInExpression(expr: string): string[] {
  return [...expr.matchAll(SECRET_REF)].map((m) => (m[1] ?? m[3]) as string);
}

function fromTemplates(value: unknown, where: string, out: SecretNeed[]): void {
  for (const { expr } of collectExpressions(value, '')) {
    for (const name of secretsInExpression(expr)) out.push({ name, where });
  }
}

/**
 * Every secret a workflow needs: `${secrets.NAME}` in task inputs and `if`, in poll inputs, the
 * webhook's signing secret, and the secrets each action it uses declares. Names only, in file
 * order, each name once per place.
 */
export function secretsNeeded(workflow: Workflow, actions: ReadonlyMap<string, AnyAction>): SecretNeed[] {
  const out: SecretNeed[] = [];
  const webhook = workflow.triggers.webhook;
  if (webhook?.secret && webhook.verify !== 'none') out.push({ name: webhook.secret, where: 'on.webhook' });
  const poll = workflow.triggers.poll;
  if (poll) {
    fromTemplates(poll.inputs, 'on.poll inputs', out);
    for (const name of actions.get(poll.action)?.secrets ?? [])
      out.push({ name, where: `on.poll, action ${poll.action}` });
  }
  for (const task of workflow.tasks) {
    fromTemplates(task.inputs, `task "${task.id}"`, out);
    if (typeof task.if === 'string') {
      for (const name of secretsInExpression(task.if)) out.push({ name, where: `task "${task.id}" if` });
    }
    for (const name of actions.get(task.action)?.secrets ?? [])
      out.push({ name, where: `task "${task.id}", action ${task.action}` });
  }
  const seen = new Set<string>();
  return out.filter((need) => {
    const key = `${need.name}\u0000${need.where}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
