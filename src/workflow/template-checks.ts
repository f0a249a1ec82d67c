import type { RawTask } from './checks.ts';
import { upstreamOf } from './dag.ts';
import { didYouMean } from './did-you-mean.ts';
import { type Finding, label } from './finding.ts';
import type { Path } from './positions.ts';
import {
  expressionSyntaxError,
  referencedTasks,
  rootIdentifiers,
  scanTemplate,
  soleExpression,
  templateFunctions,
} from './templates.ts';

/**
 * Load-time template checks: syntax, references to unknown tasks and to tasks not upstream,
 * names templates cannot read, and object keys json-e reserves.
 */

/** json-e's operators (node_modules/json-e/src/index.js); any other `$identifier` key is reserved. */
const JSONE_OPERATORS = new Set([
  '$eval',
  '$flatten',
  '$flattenDeep',
  '$fromNow',
  '$if',
  '$json',
  '$let',
  '$map',
  '$reduce',
  '$find',
  '$match',
  '$switch',
  '$merge',
  '$mergeDeep',
  '$reverse',
  '$sort',
]);
/** The keys json-e refuses with "$<identifier> is reserved" (its own test). */
const RESERVED_KEY = /^\$[a-zA-Z][a-zA-Z0-9]*$/;

/** What the run context holds (executor.ts) and the functions templates can call. */
const CONTEXT_NAMES = ['trigger', 'tasks', 'steps', 'secrets', 'vars', 'run', 'workflow'];
const JSONE_BUILTINS = [
  'abs',
  'ceil',
  'defined',
  'floor',
  'fromNow',
  'join',
  'len',
  'lowercase',
  'lstrip',
  'max',
  'min',
  'number',
  'range',
  'rstrip',
  'split',
  'sqrt',
  'str',
  'strip',
  'typeof',
  'uppercase',
];
const READABLE = new Set([...CONTEXT_NAMES, ...JSONE_BUILTINS, ...Object.keys(templateFunctions)]);

const isOperatorObject = (value: object) => Object.keys(value).some((key) => JSONE_OPERATORS.has(key));

interface Found {
  expr: string;
  path: Path;
  /** The `${...}` as written, to point inside long strings. */
  snippet?: string;
  at?: 'key';
  error?: string;
  /** Inside a json-e operator object, where `$map`, `$let`, … bind names of their own. */
  bound?: true;
}

/** Expressions in one value: `${...}` inside strings, and the bare ones json-e operators take. */
function expressionsIn(value: unknown, path: Path, out: Found[] = [], bound = false): Found[] {
  if (typeof value === 'string') return scanInto(value, path, out, undefined, bound);
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) expressionsIn(item, [...path, i], out, bound);
  } else if (value !== null && typeof value === 'object') {
    const inner = bound || isOperatorObject(value);
    const mark = inner ? { bound: true as const } : {};
    for (const [key, child] of Object.entries(value)) {
      const childPath = [...path, key];
      if (key.includes('${')) scanInto(key, childPath, out, 'key', inner);
      if ((key === '$eval' || key === '$if') && typeof child === 'string')
        out.push({ expr: child, path: childPath, ...mark });
      else if ((key === '$switch' || key === '$match') && child !== null && typeof child === 'object') {
        for (const [condition, result] of Object.entries(child)) {
          if (condition !== '$default')
            out.push({ expr: condition, path: [...childPath, condition], at: 'key', ...mark });
          expressionsIn(result, [...childPath, condition], out, inner);
        }
      } else expressionsIn(child, childPath, out, inner);
    }
  }
  return out;
}

function scanInto(text: string, path: Path, out: Found[], at?: 'key', bound = false): Found[] {
  const scan = scanTemplate(text);
  const extra = { ...(at && { at }), ...(bound && { bound: true as const }) };
  for (const e of scan.expressions)
    out.push({ expr: e.expr, path, snippet: text.slice(e.start, e.end), ...extra });
  if (scan.error) {
    const start = text.lastIndexOf('${');
    out.push({ expr: text, path, snippet: text.slice(start), error: scan.error, ...extra });
  }
  return out;
}

/** Keys json-e reserves (`$schema`, `$ref`): json-e fails on them at run time; `$$schema` is literal. */
function reservedKeys(value: unknown, path: Path, out: Path[] = []): Path[] {
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) reservedKeys(item, [...path, i], out);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      const childPath = [...path, key];
      if (RESERVED_KEY.test(key) && !JSONE_OPERATORS.has(key)) out.push(childPath);
      if ((key === '$switch' || key === '$match') && child !== null && typeof child === 'object') {
        // Their keys are conditions (and `$default`), not keys of the result.
        for (const [condition, result] of Object.entries(child))
          reservedKeys(result, [...childPath, condition], out);
      } else reservedKeys(child, childPath, out);
    }
  }
  return out;
}

/** What a task renders: inputs, `if`, and for `run:` tasks the command, env and cwd. */
function taskExpressions(task: RawTask): Found[] {
  const spec = task.spec ?? {};
  const found: Found[] = [];
  const usable = (field: string) => field in spec && !task.broken.has(field);
  if (usable('inputs')) expressionsIn(spec.inputs, [...task.path, 'inputs'], found);
  if (usable('if') && typeof spec.if === 'string') {
    // Like `evaluate`: a sole `${ }` is unwrapped, anything else is one bare expression.
    found.push({ expr: soleExpression(spec.if.trim()) ?? spec.if, path: [...task.path, 'if'] });
  }
  for (const field of ['run', 'env', 'cwd'])
    if (usable(field)) expressionsIn(spec[field], [...task.path, field], found);
  return found;
}

const ACCESS = (id: string) =>
  new RegExp(
    `(?<![\\w$]|\\.\\s*)(tasks|steps)\\s*(?:\\.\\s*${id}\\b|\\[\\s*['"]${id}['"]\\s*\\])(?:\\s*\\.\\s*([A-Za-z_]\\w*))?`,
  );

/** How the expression reads the task: `tasks.fetch` and, with the field, `tasks.fetch.output`. */
function accessOf(expr: string, id: string): { base: string; full: string } {
  const m = ACCESS(id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).exec(expr);
  const base = `${m?.[1] ?? 'tasks'}.${id}`;
  return { base, full: m?.[2] ? `${base}.${m[2]}` : base };
}

export function checkTemplates(
  tasks: readonly RawTask[],
  unsure: ReadonlySet<string>,
  data: unknown,
): Finding[] {
  const findings: Finding[] = [];
  const ids = tasks.map((t) => t.id);
  const known = new Set(ids);
  for (const task of tasks) {
    if (!task.spec) continue;
    const upstream = upstreamOf(tasks, task.id);
    const reported = new Set<string>();
    if ('inputs' in task.spec && !task.broken.has('inputs')) {
      for (const path of reservedKeys(task.spec.inputs, [...task.path, 'inputs'])) {
        const key = String(path.at(-1));
        findings.push({
          path,
          at: 'key',
          message: `${task.who}: input key "${key}" is read as a json-e operator; write "$${key}" for a literal key`,
        });
      }
    }
    for (const found of taskExpressions(task)) {
      const where = {
        path: found.path,
        ...(found.at ? { at: found.at } : {}),
        ...(found.snippet ? { snippet: found.snippet } : {}),
      };
      const subject = label(found.path, data);
      if (found.error) {
        findings.push({ ...where, message: `${subject} has an ${found.error}; close it with }` });
        continue;
      }
      if (found.expr.trim() === '') {
        findings.push({ ...where, message: `${subject} has an empty \${ } expression` });
        continue;
      }
      const error = expressionSyntaxError(found.expr);
      if (error) {
        const inner = /^\{([^{}]*)\}$/s.exec(found.expr);
        const message = inner
          ? `${subject} uses \${{${inner[1]}}}; write \${${inner[1]}} instead (one pair of braces)`
          : `${subject} has an invalid expression \${${found.expr}}: ${error}`;
        findings.push({ ...where, message });
        continue;
      }
      if (!found.bound) {
        for (const name of rootIdentifiers(found.expr)) {
          const key = `${formatKey(found.path)}|name:${name}`;
          if (READABLE.has(name) || reported.has(key)) continue;
          reported.add(key);
          const field = found.path[task.path.length];
          findings.push({ ...where, message: unreadableName(task.who, subject, field, found, name) });
        }
      }
      for (const ref of referencedTasks(found.expr)) {
        const key = `${formatKey(found.path)}|${ref}`;
        if (reported.has(key)) continue;
        reported.add(key);
        const access = accessOf(found.expr, ref);
        if (!known.has(ref)) {
          // `tasks.fetch-issue` parses as `tasks.fetch`; the bad id is already reported.
          if (ids.some((id) => id.startsWith(ref) && /\W/.test(id[ref.length] ?? ''))) continue;
          findings.push({
            ...where,
            message: `${task.who} refers to ${access.base}, which does not exist${didYouMean(ref, ids)}`,
          });
        } else if (ref === task.id) {
          findings.push({
            ...where,
            message: `${task.who} reads ${access.full}, its own result; a task can only read tasks upstream of it`,
          });
        } else if (!unsure.has(task.id) && !upstream.has(ref)) {
          findings.push({
            ...where,
            message: `${task.who} reads ${access.full}, but "${ref}" is not upstream of "${task.id}"; add it to depends_on`,
          });
        }
      }
    }
  }
  return findings;
}

/** A name templates cannot read; in `run:`, `${HOME}` was most likely meant for the shell. */
function unreadableName(
  who: string,
  subject: string,
  field: PropertyKey | undefined,
  found: Found,
  name: string,
): string {
  if (field === 'run' && found.expr.trim() === name) {
    const written = found.snippet ?? `\${${name}}`;
    return `${who}: ${written} in run: is a Baton template, and "${name}" is not something templates can read; for the shell variable write $${name} or $\${${name}}`;
  }
  return `${subject} reads "${name}", which is not something templates can read (they read ${CONTEXT_NAMES.join(', ')})${didYouMean(name, READABLE)}`;
}

function formatKey(path: Path): string {
  return path.map(String).join('\u0000');
}

/** `{{ x }}` (mustache, GitHub Actions) is not a Baton template; say what to write instead. */
export function findMustache(value: unknown, path: Path, data: unknown, out: Finding[] = []): Finding[] {
  if (typeof value === 'string') {
    for (const literal of scanTemplate(value).literals) {
      for (const m of literal.matchAll(/\{\{\s*(.*?)\s*\}\}/g)) {
        out.push({
          path,
          snippet: m[0],
          message: `${label(path, data)} uses ${m[0]}; write \${${m[1]}} instead of {{ ... }}`,
        });
      }
    }
  } else if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) findMustache(item, [...path, i], data, out);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      if (key !== 'description' && key !== 'name') findMustache(child, [...path, key], data, out);
    }
  }
  return out;
}
