import { formatPath, type Path } from './positions.ts';

/** A problem before it has a position: the loader maps `path` to line/column. */
export interface Finding {
  path: Path;
  message: string;
  /** Point at the key of the last segment instead of its value. */
  at?: 'key' | 'value';
  /** Point inside the string value, at this piece of its source. */
  snippet?: string;
}

/** The value at `path` in plain data, or undefined. */
export function valueAt(data: unknown, path: Path): unknown {
  let current = data;
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[segment];
  }
  return current;
}

/** Splits a path into the task it is in (`task "b"`, `step 2`) and the rest. */
export function subjectOf(path: Path, data: unknown): { who?: string; rest: Path } {
  const [head, id] = path;
  if (head === 'tasks' && typeof id === 'string') return { who: `task "${id}"`, rest: path.slice(2) };
  if (head === 'steps' && typeof id === 'number') {
    const stepId = valueAt(data, ['steps', id, 'id']);
    return { who: typeof stepId === 'string' ? `step "${stepId}"` : `step ${id + 1}`, rest: path.slice(2) };
  }
  return { rest: path };
}

/** `input "method"` for action inputs, `"retry.attempts"` for everything else. */
export function fieldName(rest: Path): string {
  if (rest[0] === 'inputs' && rest.length > 1) return `input "${formatPath(rest.slice(1))}"`;
  return `"${formatPath(rest)}"`;
}

/** The subject of a sentence about `path`: `task "b": "when"`, `"timeout"`, `task "b"`. */
export function label(path: Path, data: unknown): string {
  const { who, rest } = subjectOf(path, data);
  if (who && rest.length > 0) return `${who}: ${fieldName(rest)}`;
  if (who) return who;
  if (rest.length > 0) return fieldName(rest);
  return 'the workflow file';
}

/** Where a key lives, for `unknown key "x" <container>`. */
export function container(path: Path, data: unknown): string {
  const { who, rest } = subjectOf(path, data);
  if (who && rest.length === 0) return `in ${who}`;
  if (who) return `in ${fieldName(rest)} of ${who}`;
  if (rest.length === 0) return 'at the top level';
  return `in ${fieldName(rest)}`;
}

/** A short, quoted rendering of a value for `(got ...)`. */
export function describeValue(value: unknown): string {
  if (value === null) return 'an empty value';
  if (typeof value === 'string')
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}...` : value);
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return String(value);
}
