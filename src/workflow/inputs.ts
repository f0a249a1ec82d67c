import { ValidationError } from '../errors.ts';
import type { InputDecl } from './spec.ts';
import type { Workflow } from './types.ts';

/**
 * Checks run inputs against the workflow's declared `on.manual.inputs`, filling defaults.
 * With nothing declared any JSON object is accepted as is. Reports every problem at once.
 */
export function checkInputs(workflow: Workflow, given: unknown): Record<string, unknown> {
  if (given === undefined || given === null) given = {};
  if (typeof given !== 'object' || Array.isArray(given)) {
    throw new ValidationError('inputs must be a JSON object, like {"repo": "acme/api"}');
  }
  const declared = workflow.triggers.manual?.inputs;
  const inputs = { ...(given as Record<string, unknown>) };
  if (!declared || Object.keys(declared).length === 0) return inputs;

  const problems: string[] = [];
  for (const name of Object.keys(inputs)) {
    if (!(name in declared)) {
      problems.push(`unknown input "${name}" (declared: ${Object.keys(declared).join(', ')})`);
    }
  }
  for (const [name, decl] of Object.entries(declared)) {
    if (inputs[name] === undefined && decl.default !== undefined) inputs[name] = decl.default;
    const value = inputs[name];
    if (value === undefined) {
      if (decl.required) problems.push(`input "${name}" is required`);
      continue;
    }
    const typeProblem = checkType(value, decl);
    if (typeProblem) problems.push(`input "${name}" ${typeProblem}`);
    else if (decl.enum && !decl.enum.some((option) => JSON.stringify(option) === JSON.stringify(value))) {
      problems.push(`input "${name}" must be one of ${decl.enum.map((o) => JSON.stringify(o)).join(', ')}`);
    }
  }
  if (problems.length > 0) {
    throw new ValidationError(`invalid inputs for ${workflow.name}: ${problems.join('; ')}`, {
      details: { problems },
    });
  }
  return inputs;
}

function checkType(value: unknown, decl: InputDecl): string | undefined {
  const got = Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
  switch (decl.type ?? 'string') {
    case 'string':
      return typeof value === 'string' ? undefined : `must be a string (got ${got})`;
    case 'number':
      return typeof value === 'number' && Number.isFinite(value)
        ? undefined
        : `must be a number (got ${got})`;
    case 'integer':
      return Number.isInteger(value) ? undefined : `must be an integer (got ${JSON.stringify(value)})`;
    case 'boolean':
      return typeof value === 'boolean' ? undefined : `must be true or false (got ${got})`;
    case 'array':
      return Array.isArray(value) ? undefined : `must be a list (got ${got})`;
    case 'object':
      return got === 'object' ? undefined : `must be an object (got ${got})`;
  }
}
