import jsone from 'json-e';
import { TemplateError } from '../errors.ts';

/**
 * Baton's template rules on top of json-e:
 * - a string that is exactly one `${expr}` yields the value with its type;
 * - `${expr}` inside a longer string interpolates (objects and lists as JSON);
 * - `$${` is a literal `${`;
 * - objects with json-e operators (`$eval`, `$if`, `$map`, ...) are rendered by json-e itself.
 */

export interface Expression {
  expr: string;
  /** Offsets of `${` and of the character after the closing `}` within the string. */
  start: number;
  end: number;
}

export interface ScanResult {
  expressions: Expression[];
  /** Literal pieces between expressions (escapes resolved); length is expressions.length + 1. */
  literals: string[];
  error?: string;
}

/** Finds `${...}` expressions, honouring quotes and nested braces inside them. */
export function scanTemplate(text: string): ScanResult {
  const expressions: Expression[] = [];
  const literals: string[] = [];
  let literal = '';
  let i = 0;
  while (i < text.length) {
    if (text.startsWith('$${', i)) {
      literal += '${';
      i += 3;
      continue;
    }
    if (!text.startsWith('${', i)) {
      literal += text[i];
      i += 1;
      continue;
    }
    const end = closingBrace(text, i + 2);
    if (end === -1)
      return { expressions, literals: [...literals, literal], error: 'unterminated ${ ... } expression' };
    literals.push(literal);
    literal = '';
    expressions.push({ expr: text.slice(i + 2, end).trim(), start: i, end: end + 1 });
    i = end + 1;
  }
  literals.push(literal);
  return { expressions, literals };
}

function closingBrace(text: string, from: number): number {
  let depth = 0;
  let quote: string | undefined;
  for (let i = from; i < text.length; i++) {
    const ch = text[i];
    if (quote) {
      if (ch === quote) quote = undefined;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '{') depth += 1;
    else if (ch === '}') {
      if (depth === 0) return i;
      depth -= 1;
    }
  }
  return -1;
}

/** True when the string is exactly one `${expr}` and nothing else. */
export function soleExpression(text: string): string | undefined {
  const scan = scanTemplate(text);
  if (scan.error || scan.expressions.length !== 1) return undefined;
  const only = scan.expressions[0];
  return only && only.start === 0 && only.end === text.length ? only.expr : undefined;
}

export function hasTemplates(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('${');
  if (Array.isArray(value)) return value.some(hasTemplates);
  if (value && typeof value === 'object') {
    return Object.entries(value).some(([k, v]) => k.startsWith('$') || k.includes('${') || hasTemplates(v));
  }
  return false;
}

/** Syntax check of one expression without a context; undefined when it parses. */
export function expressionSyntaxError(expr: string): string | undefined {
  if (expr.trim() === '') return 'empty ${ } expression';
  try {
    jsone({ $eval: expr }, {});
    return undefined;
  } catch (err) {
    const e = err as Error;
    if (e.name === 'SyntaxError' || e.name === 'TypeError') return cleanMessage(e);
    return undefined; // an interpreter error means it parsed: the context was just empty
  }
}

/** `tasks.<id>` / `steps.<id>` at the root of a path; `vars.tasks.x` is a property, not a task. */
const TASK_REF =
  /(?<![\w$]|\.\s*)(tasks|steps)\s*(?:\.\s*([A-Za-z_][A-Za-z0-9_]*)|\[\s*(['"])([^'"]*)\3\s*\])/g;

/** Task ids an expression reads through `tasks.<id>` / `steps.<id>` (string literals ignored). */
export function referencedTasks(expr: string): string[] {
  const code = stripStringLiterals(expr, true);
  const found = new Set<string>();
  for (const m of code.matchAll(TASK_REF)) {
    const id = m[2] ?? m[4];
    if (id) found.add(id);
  }
  return [...found];
}

const TOKEN = /\s+|'[^']*'|"[^"]*"|[0-9]+(?:\.[0-9]+)?|[A-Za-z_][A-Za-z0-9_]*|[^\s]/gy;
const KEYWORDS = new Set(['true', 'false', 'null', 'in']);

/**
 * The names an expression reads from its context: identifiers that are not a property
 * (`.x`), an object-literal key (`{x: 1}`) or a keyword, in order of first use.
 */
export function rootIdentifiers(expr: string): string[] {
  const tokens = [...expr.matchAll(TOKEN)].map((m) => m[0]).filter((t) => t.trim() !== '');
  const found = new Set<string>();
  const open: string[] = [];
  tokens.forEach((token, i) => {
    if (token === '(' || token === '[' || token === '{') open.push(token);
    else if (token === ')' || token === ']' || token === '}') open.pop();
    if (!/^[A-Za-z_]/.test(token) || KEYWORDS.has(token)) return;
    if (tokens[i - 1] === '.') return;
    if (tokens[i + 1] === ':' && open.at(-1) === '{') return;
    found.add(token);
  });
  return [...found];
}

/** Blanks out string literals so a regex sees only code; keeps bracket-quoted keys when asked. */
function stripStringLiterals(expr: string, keepBracketKeys: boolean): string {
  return expr.replace(/(\[\s*)?(['"])([^'"]*?)\2/g, (whole, bracket: string | undefined) =>
    bracket && keepBracketKeys ? whole : ' '.repeat(whole.length),
  );
}

/** Every expression in a template tree, with a readable path (`inputs.body.text`). */
export function collectExpressions(
  value: unknown,
  path: string,
): { path: string; expr: string; error?: string }[] {
  const out: { path: string; expr: string; error?: string }[] = [];
  const visit = (v: unknown, p: string) => {
    if (typeof v === 'string') {
      const scan = scanTemplate(v);
      for (const e of scan.expressions) out.push({ path: p, expr: e.expr });
      if (scan.error) out.push({ path: p, expr: v, error: scan.error });
    } else if (Array.isArray(v)) {
      for (const [i, item] of v.entries()) visit(item, `${p}[${i}]`);
    } else if (v && typeof v === 'object') {
      for (const [k, child] of Object.entries(v)) {
        const childPath = `${p}.${k}`;
        // json-e operators whose value is itself an expression
        if ((k === '$eval' || k === '$if') && typeof child === 'string')
          out.push({ path: childPath, expr: child });
        else visit(child, childPath);
      }
    }
  };
  visit(value, path);
  return out;
}

/**
 * Functions templates may call besides json-e's built-ins; the names match GitHub Actions'
 * expressions so workflows read familiar.
 */
export const templateFunctions = {
  fromJSON(text: unknown): unknown {
    if (typeof text !== 'string') throw new Error(`fromJSON expects a string, got ${typeof text}`);
    try {
      return JSON.parse(text);
    } catch {
      // The parser's message quotes the text around the error, which may be a secret.
      throw new Error('fromJSON: not valid JSON');
    }
  },
  toJSON(value: unknown): string {
    return JSON.stringify(value);
  },
};

/** Renders a template tree against a context. Throws TemplateError naming field and expression. */
export function render(template: unknown, context: Record<string, unknown>, field = 'inputs'): unknown {
  if (typeof template === 'string') return renderString(template, context, field);
  if (Array.isArray(template)) return template.map((item, i) => render(item, context, `${field}[${i}]`));
  if (template && typeof template === 'object') {
    const entries = Object.entries(template);
    if (entries.some(([k]) => k.startsWith('$') && !k.startsWith('$${')))
      return renderJsonE(template, context, field);
    const out: Record<string, unknown> = {};
    for (const [k, v] of entries) {
      const key = k.includes('${') ? String(renderString(k, context, `${field} key "${k}"`)) : k;
      out[key] = render(v, context, `${field}.${k}`);
    }
    return out;
  }
  return template;
}

/** Evaluates a bare expression (as in `if:`), with or without a `${ }` wrapper. */
export function evaluate(expression: string, context: Record<string, unknown>, field: string): unknown {
  const inner = soleExpression(expression.trim()) ?? expression;
  return evalExpr(inner, context, field);
}

/** json-e truthiness: false, 0, '', null, [] and {} are false. */
export function truthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  if (value && typeof value === 'object') return Object.keys(value).length > 0;
  return Boolean(value);
}

function renderString(text: string, context: Record<string, unknown>, field: string): unknown {
  if (!text.includes('${')) return text;
  const scan = scanTemplate(text);
  if (scan.error) throw new TemplateError(`${field}: ${scan.error}`, { field, expression: text });
  const only = scan.expressions[0];
  if (scan.expressions.length === 1 && only && only.start === 0 && only.end === text.length) {
    return evalExpr(only.expr, context, field);
  }
  let out = scan.literals[0] ?? '';
  scan.expressions.forEach((e, i) => {
    out += toText(evalExpr(e.expr, context, field)) + (scan.literals[i + 1] ?? '');
  });
  return out;
}

/** How a value reads inside a string (and in a shell variable): objects and lists as JSON. */
export function toText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function evalExpr(expr: string, context: Record<string, unknown>, field: string): unknown {
  try {
    return jsone({ $eval: expr }, context);
  } catch (err) {
    throw new TemplateError(`${field}: \${${expr}} failed: ${cleanMessage(err as Error)}`, {
      field,
      expression: expr,
      cause: err,
    });
  }
}

function renderJsonE(template: object, context: Record<string, unknown>, field: string): unknown {
  try {
    return jsone(soleToEval(template) as Record<string, unknown>, context);
  } catch (err) {
    throw new TemplateError(`${field}: json-e template failed: ${cleanMessage(err as Error)}`, {
      field,
      expression: JSON.stringify(template),
      cause: err,
    });
  }
}

/** Inside json-e operators, `"${x}"` becomes `{ $eval: x }` so values keep their type there too. */
function soleToEval(value: unknown): unknown {
  if (typeof value === 'string') {
    const expr = soleExpression(value);
    return expr === undefined ? value : { $eval: expr };
  }
  if (Array.isArray(value)) return value.map(soleToEval);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === '$eval' ? v : soleToEval(v)]));
  }
  return value;
}

/** json-e's parser crashes with a TypeError on some incomplete input; say what it means. */
export function cleanMessage(err: Error): string {
  if (
    err.name === 'TypeError' &&
    /token|is not an object|Cannot read propert|undefined is not/.test(err.message)
  ) {
    return 'unexpected end of expression';
  }
  return err.message;
}
