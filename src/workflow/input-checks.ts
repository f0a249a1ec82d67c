import type { AnyAction } from '../plugins/define-action.ts';
import type { RawTask } from './checks.ts';
import { didYouMean } from './did-you-mean.ts';
import { type Finding, label } from './finding.ts';
import { isRequired, objectShape, type SchemaLike } from './schema-walk.ts';
import { hasTemplates } from './templates.ts';
import { issuesToFindings } from './zod-problems.ts';

/** Checks against the action catalogue: the action exists and its static inputs fit its schema. */

export interface ActionLookup {
  actions: ReadonlyMap<string, AnyAction>;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

export function checkActions(tasks: readonly RawTask[], catalogue: ActionLookup, data: unknown): Finding[] {
  const findings: Finding[] = [];
  const actionIds = [...catalogue.actions.keys()];
  for (const task of tasks) {
    const spec = task.spec;
    // `run:` tasks are the shell action with inputs Baton builds itself; zod covers their fields.
    if (
      !spec ||
      'run' in spec ||
      typeof spec.action !== 'string' ||
      task.broken.has('') ||
      task.broken.has('action')
    )
      continue;
    const action = catalogue.actions.get(spec.action);
    if (!action) {
      findings.push({
        path: [...task.path, 'action'],
        message: `unknown action "${spec.action}" in ${task.who}${didYouMean(spec.action, actionIds)}`,
      });
      continue;
    }
    if (task.broken.has('inputs')) continue;
    const inputs = spec.inputs ?? {};
    if (!isObject(inputs)) continue;
    findings.push(...checkInputs(task, inputs, action.input, data));
  }
  return findings;
}

function checkInputs(
  task: RawTask,
  inputs: Record<string, unknown>,
  schema: SchemaLike,
  data: unknown,
): Finding[] {
  const base = [...task.path, 'inputs'];
  if (!hasTemplates(inputs)) {
    const result = schema.safeParse(inputs);
    return result.success ? [] : issuesToFindings(result.error?.issues ?? [], { schema, data, base });
  }
  // Rendered at run time: check only what is already fixed. Computed keys hide which keys exist.
  if (Object.keys(inputs).some((k) => k.startsWith('$') || k.includes('${'))) return [];
  const object = objectShape(schema);
  if (!object) return [];
  const findings: Finding[] = [];
  for (const [key, value] of Object.entries(inputs)) {
    const field = object.shape[key];
    if (!field) {
      if (object.strict) {
        findings.push({
          path: [...base, key],
          at: 'key',
          message: `unknown input "${key}" in ${task.who}${didYouMean(key, Object.keys(object.shape))}`,
        });
      }
    } else if (!hasTemplates(value)) {
      const result = field.safeParse(value);
      if (!result.success) {
        findings.push(
          ...issuesToFindings(result.error?.issues ?? [], { schema: field, data, base: [...base, key] }),
        );
      }
    }
  }
  for (const [key, field] of Object.entries(object.shape)) {
    if (!(key in inputs) && isRequired(field)) {
      findings.push({ path: [...base, key], message: `${label([...base, key], data)} is required` });
    }
  }
  return findings;
}
