import { ValidationError } from '../src/errors.ts';
import type { InputDecl } from '../src/workflow/spec.ts';

/** Field names of the run form: `input.<name>` per declared input, `inputs_json` when none are declared. */
export const fieldName = (input: string) => `input.${input}`;
export const JSON_FIELD = 'inputs_json';

type FormBody = Record<string, string | File | (string | File)[]>;

const text = (value: FormBody[string] | undefined): string | undefined => {
  const one = Array.isArray(value) ? value[value.length - 1] : value;
  return typeof one === 'string' ? one : undefined;
};

/**
 * The run form's fields as typed inputs. Empty fields are left out, so declared defaults apply and
 * `required` is reported by the same check the API uses (checkInputs, inside startRun).
 */
export function inputsFromForm(
  declared: Record<string, InputDecl> | undefined,
  form: FormBody,
): Record<string, unknown> {
  if (!declared || Object.keys(declared).length === 0) return jsonInputs(text(form[JSON_FIELD]));
  const inputs: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [name, decl] of Object.entries(declared)) {
    const raw = text(form[fieldName(name)]);
    const type = decl.type ?? 'string';
    if (decl.enum) {
      if (raw === undefined || raw === '') continue;
      const index = Number(raw);
      if (Number.isInteger(index) && index >= 0 && index < decl.enum.length) inputs[name] = decl.enum[index];
      else problems.push(`input "${name}" must be one of the listed options`);
      continue;
    }
    if (type === 'boolean') {
      inputs[name] = raw === 'true';
      continue;
    }
    if (raw === undefined || raw.trim() === '') continue;
    if (type === 'number' || type === 'integer') {
      const n = Number(raw);
      if (Number.isFinite(n)) inputs[name] = n;
      else problems.push(`input "${name}" must be a number (got "${raw}")`);
    } else if (type === 'array' || type === 'object') {
      try {
        inputs[name] = JSON.parse(raw);
      } catch {
        problems.push(
          `input "${name}" must be JSON (${type === 'array' ? 'like ["a", "b"]' : 'like {"a": 1}'})`,
        );
      }
    } else {
      inputs[name] = raw;
    }
  }
  if (problems.length > 0) {
    throw new ValidationError(problems.join('; '), { details: { problems } });
  }
  return inputs;
}

function jsonInputs(raw: string | undefined): Record<string, unknown> {
  if (raw === undefined || raw.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    throw new ValidationError(`inputs are not valid JSON: ${(err as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ValidationError('inputs must be a JSON object, like {"repo": "acme/api"}');
  }
  return value as Record<string, unknown>;
}
