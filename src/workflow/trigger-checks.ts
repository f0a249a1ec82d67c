import { ValidationError } from '../errors.ts';
import { didYouMean } from './did-you-mean.ts';
import type { Finding } from './finding.ts';
import type { ActionLookup } from './input-checks.ts';
import { checkInputs } from './inputs.ts';
import { scheduleEntryId } from './normalize.ts';
import { collectExpressions, expressionSyntaxError, hasTemplates, rootIdentifiers } from './templates.ts';
import type { Workflow } from './types.ts';
import { issuesToFindings } from './zod-problems.ts';

/** Checks of `on.schedule` and `on.poll` that need the whole list or the action catalogue. */

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** What a poll's inputs may read: they are rendered outside any run. */
const POLL_INPUT_CONTEXT = new Set(['secrets', 'vars', 'workflow']);

export function checkTriggers(data: Record<string, unknown>, catalogue: ActionLookup | undefined): Finding[] {
  const on = data.on;
  if (!isObject(on)) return [];
  return [
    ...checkScheduleIds(on.schedule),
    ...checkScheduleFields(on.schedule),
    ...checkScheduleInputs(on.schedule, on.manual),
    ...checkPoll(on.poll, catalogue, data),
  ];
}

/** Two entries with the same id would share one idempotency key per time, so one of them would never fire. */
function checkScheduleIds(schedule: unknown): Finding[] {
  if (!Array.isArray(schedule)) return [];
  const findings: Finding[] = [];
  const seen = new Map<string, number>();
  schedule.forEach((entry, index) => {
    if (!isObject(entry) || typeof entry.cron !== 'string') return;
    const explicit = typeof entry.id === 'string';
    const timezone = typeof entry.timezone === 'string' ? entry.timezone : 'UTC';
    const id = explicit ? (entry.id as string) : scheduleEntryId(entry.cron, timezone);
    const first = seen.get(id);
    if (first === undefined) {
      seen.set(id, index);
      return;
    }
    findings.push({
      path: ['on', 'schedule', index, explicit ? 'id' : 'cron'],
      message: explicit
        ? `schedule id "${id}" is already used by on.schedule[${first}]; ids must be unique`
        : `on.schedule[${first}] has the same cron and timezone; give one of them an "id:" to tell them apart`,
    });
  });
  return findings;
}

/** Rules across an entry's fields; checked on the raw data so they show even when a field is wrong. */
function checkScheduleFields(schedule: unknown): Finding[] {
  if (!Array.isArray(schedule)) return [];
  const findings: Finding[] = [];
  schedule.forEach((entry, index) => {
    if (!isObject(entry)) return;
    if (entry.input !== undefined && entry.inputs !== undefined) {
      findings.push({
        path: ['on', 'schedule', index, 'inputs'],
        at: 'key',
        message: `on.schedule[${index}]: write either "input" or its older spelling "inputs", not both`,
      });
    }
    if (entry.catchup_limit !== undefined && entry.catchup !== 'all') {
      findings.push({
        path: ['on', 'schedule', index, 'catchup_limit'],
        at: 'key',
        message: `on.schedule[${index}]: catchup_limit bounds catchup: all; set catchup: all or remove it`,
      });
    }
  });
  return findings;
}

/** A schedule's input must fit the declared inputs (types, enums, known names), or its runs would be refused. */
function checkScheduleInputs(schedule: unknown, manual: unknown): Finding[] {
  if (!Array.isArray(schedule) || !isObject(manual) || !isObject(manual.inputs)) return [];
  const declared = {
    triggers: { manual: { inputs: manual.inputs } },
    name: 'this workflow',
  } as unknown as Workflow;
  const findings: Finding[] = [];
  schedule.forEach((entry, index) => {
    if (!isObject(entry)) return;
    const key = entry.input !== undefined ? 'input' : 'inputs';
    const given = entry[key];
    if (given !== undefined && !isObject(given)) return; // zod reports the type
    try {
      checkInputs(declared, given ?? {});
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      // A missing required input is left to run time: the design's own example schedules a
      // workflow whose manual input is required, and refusing the file would break it.
      const problems = (
        (err.details as { problems?: string[] } | undefined)?.problems ?? [err.message]
      ).filter((p) => !p.endsWith(' is required'));
      if (problems.length === 0) return;
      findings.push({
        path: ['on', 'schedule', index, ...(given === undefined ? [] : [key])],
        message: `on.schedule[${index}]: the runs it starts would be refused: ${problems.join('; ')} (see on.manual.inputs)`,
      });
    }
  });
  return findings;
}

/** `inputs.query.a[0]` → ['inputs', 'query', 'a', 0], as positions expect. */
function pathSegments(text: string): (string | number)[] {
  return text.split('.').flatMap((part) => {
    const [name, ...indexes] = part.split('[');
    return [...(name ? [name] : []), ...indexes.map((i) => Number(i.replace(']', '')))];
  });
}

function checkPoll(poll: unknown, catalogue: ActionLookup | undefined, data: unknown): Finding[] {
  if (!isObject(poll)) return [];
  const findings: Finding[] = [];
  const inputs = isObject(poll.inputs) ? poll.inputs : undefined;
  if (inputs) {
    for (const found of collectExpressions(inputs, 'inputs')) {
      const path = ['on', 'poll', ...pathSegments(found.path)];
      if (found.error) {
        findings.push({ path, message: `on.poll.${found.path} has an ${found.error}; close it with }` });
        continue;
      }
      const error = expressionSyntaxError(found.expr);
      if (error) {
        findings.push({ path, message: `on.poll.${found.path}: \${${found.expr}} is not valid: ${error}` });
        continue;
      }
      const other = rootIdentifiers(found.expr).find((name) => !POLL_INPUT_CONTEXT.has(name));
      if (other && ['trigger', 'tasks', 'steps', 'run'].includes(other)) {
        findings.push({
          path,
          message: `on.poll.${found.path} reads "${other}", which does not exist before a run; a poll's inputs can read secrets, vars and workflow`,
        });
      }
    }
  }
  if (!catalogue || typeof poll.action !== 'string') return findings;
  const action = catalogue.actions.get(poll.action);
  if (!action) {
    findings.push({
      path: ['on', 'poll', 'action'],
      message: `unknown action "${poll.action}" in on.poll${didYouMean(poll.action, [...catalogue.actions.keys()])}`,
    });
    return findings;
  }
  if (inputs && !hasTemplates(inputs)) {
    const result = action.input.safeParse(inputs);
    if (!result.success)
      findings.push(
        ...issuesToFindings(result.error.issues, {
          schema: action.input,
          data,
          base: ['on', 'poll', 'inputs'],
        }),
      );
  }
  return findings;
}
