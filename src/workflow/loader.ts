import { readdirSync, readFileSync } from 'node:fs';
import { dirname, extname, join, relative, sep } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import type { $ZodIssue } from 'zod/v4/core';
import type { Problem } from '../errors.ts';
import { checkStructure, explainedByStructure } from './checks.ts';
import type { Finding } from './finding.ts';
import { type ActionLookup, checkActions } from './input-checks.ts';
import { normalizeWorkflow } from './normalize.ts';
import { DocumentPositions, formatPath } from './positions.ts';
import type { SchemaLike } from './schema-walk.ts';
import { WORKFLOW_NAME, workflowFileSchema } from './spec.ts';
import { checkTemplates, findMustache } from './template-checks.ts';
import { checkTriggers } from './trigger-checks.ts';
import type { Workflow } from './types.ts';
import { issuesToFindings } from './zod-problems.ts';

export interface LoadResult {
  /** Set only when there are no problems. */
  workflow?: Workflow;
  /** Every problem found, sorted by line and column. */
  problems: Problem[];
}

export interface LoadTextOptions {
  /** Shown in problems and kept in `workflow.source.file`. */
  file: string;
  /** The name when the file has no `name:`. */
  defaultName: string;
  /** When given, actions and their static inputs are checked too. */
  catalogue?: ActionLookup;
}

const YAML_HINTS: Partial<Record<string, string>> = {
  BLOCK_AS_IMPLICIT_KEY: '; quote a value that contains ": "',
  MULTILINE_IMPLICIT_KEY: '; quote a value that contains ": "',
  TAB_AS_INDENT: '; indent with spaces',
};

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Parses and checks one workflow file, reporting every problem at once. Checks that depend on
 * a broken part (a task zod rejected, a dependency that does not exist) are skipped for that
 * part only, so the list holds causes, not their echoes.
 */
export function loadWorkflowText(text: string, options: LoadTextOptions): LoadResult {
  const { file } = options;
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const positions = new DocumentPositions(doc, lineCounter, text);
  const problems: Problem[] = [];

  const errorAt = new Set<number>();
  for (const error of doc.errors) {
    // yaml may report one mistake twice at the same spot; the first says it best.
    if (errorAt.has(error.pos[0])) continue;
    errorAt.add(error.pos[0]);
    const message =
      error.code === 'DUPLICATE_KEY'
        ? `duplicate key "${keyAt(text, error.pos[0])}"; a key may appear only once in a mapping`
        : `invalid YAML: ${error.message}${YAML_HINTS[error.code] ?? ''}`;
    problems.push({ file, ...positions.offset(error.pos[0]), message });
  }
  // A duplicate key leaves a usable document (the last value wins); other syntax errors do not.
  if (doc.errors.some((e) => e.code !== 'DUPLICATE_KEY')) return { problems: sortProblems(problems) };

  let data: unknown;
  try {
    data = doc.toJS();
  } catch (err) {
    // e.g. an alias bomb: yaml refuses to expand it
    problems.push({ file, line: 1, column: 1, message: `invalid YAML: ${(err as Error).message}` });
    return { problems: sortProblems(problems) };
  }
  if (!isObject(data)) {
    const got =
      data === null || data === undefined
        ? 'the file is empty'
        : `it is ${Array.isArray(data) ? 'a list' : 'a single value'}`;
    problems.push({
      file,
      line: 1,
      column: 1,
      message: `a workflow file must be a mapping with "tasks" or "steps", but ${got}`,
    });
    return { problems: sortProblems(problems) };
  }

  const parsed = workflowFileSchema.safeParse(data);
  const issues: $ZodIssue[] = (parsed.error?.issues ?? []).filter((i) => !explainedByStructure(i, data));
  const schema = workflowFileSchema as unknown as SchemaLike;
  const findings: Finding[] = [...issuesToFindings(issues, { schema, data })];
  const structure = checkStructure(data, issues);
  findings.push(...structure.findings);
  findings.push(...checkTemplates(structure.tasks, structure.unsure, data));
  // Only task fields are rendered; a `{{ }}` in the workflow's description is just text.
  for (const task of structure.tasks) findings.push(...findMustache(task.spec, task.path, data));
  if (!('name' in data) && !WORKFLOW_NAME.test(options.defaultName)) {
    findings.push({
      path: [],
      message: `the file name makes the workflow name "${options.defaultName}", which is not valid (use letters, digits, "_", "-", "." and "/"); rename the file or set "name:"`,
    });
  }
  if (options.catalogue) findings.push(...checkActions(structure.tasks, options.catalogue, data));
  findings.push(...checkTriggers(data, options.catalogue));

  for (const finding of findings) {
    const at = finding.snippet
      ? positions.within(finding.path, finding.snippet)
      : finding.at === 'key'
        ? positions.key(finding.path)
        : positions.value(finding.path);
    const problem: Problem = { file, ...at, message: finding.message };
    if (finding.path.length > 0) problem.path = formatPath(finding.path);
    problems.push(problem);
  }
  const sorted = sortProblems(problems);
  if (sorted.length > 0 || !parsed.success) return { problems: sorted };
  return {
    workflow: normalizeWorkflow(parsed.data, { defaultName: options.defaultName, file, source: text }),
    problems: [],
  };
}

/** The key written at `offset` (yaml marks only its first character). */
function keyAt(text: string, offset: number): string {
  const key = /^("[^"\n]*"|'[^'\n]*'|[^:\n]*?)\s*:/.exec(text.slice(offset))?.[1] ?? text.charAt(offset);
  return /^["']/.test(key) ? key.slice(1, -1) : key;
}

/** By line, then column; identical problems once. */
export function sortProblems(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems
    .map((p, i) => ({ p, i }))
    .sort((a, b) => a.p.line - b.p.line || a.p.column - b.p.column || a.i - b.i)
    .map(({ p }) => p)
    .filter((p) => {
      const key = `${p.file}:${p.line}:${p.column}:${p.message}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
}

export interface LoadFileOptions {
  /** The workflows folder the default name is relative to; defaults to the file's folder. */
  root?: string;
  catalogue?: ActionLookup;
}

/** `workflows/ops/nightly.yaml` under `workflows/` → `ops/nightly`. */
export function defaultWorkflowName(path: string, root: string = dirname(path)): string {
  const rel = relative(root, path);
  return rel
    .slice(0, rel.length - extname(rel).length)
    .split(sep)
    .join('/');
}

export function loadWorkflowFile(path: string, options: LoadFileOptions = {}): LoadResult {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    return {
      problems: [
        { file: path, line: 1, column: 1, message: `cannot read the file: ${(err as Error).message}` },
      ],
    };
  }
  const load: LoadTextOptions = { file: path, defaultName: defaultWorkflowName(path, options.root) };
  if (options.catalogue) load.catalogue = options.catalogue;
  return loadWorkflowText(text, load);
}

export interface FileLoadResult extends LoadResult {
  file: string;
}

const WORKFLOW_FILE = /\.ya?ml$/i;
/** `x.test.yaml` holds tests of a workflow (`baton test`), not a workflow. */
export const TEST_FILE = /\.test\.ya?ml$/i;

/** A workflow file's name: YAML, but not a test file. */
export function isWorkflowFileName(name: string): boolean {
  return WORKFLOW_FILE.test(name) && !TEST_FILE.test(name);
}

/** Every *.yaml / *.yml under `dir` (except *.test.yaml), sorted; dot-folders and node_modules are skipped. */
export function listWorkflowFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
      const path = join(folder, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && isWorkflowFileName(entry.name)) out.push(path);
    }
  };
  walk(dir);
  return out.sort();
}

/**
 * Loads every workflow file under `dir`. Two files with the same workflow name cannot both be
 * served: the later one (in path order) gets a problem and no workflow.
 */
export function loadWorkflowDir(dir: string, options: { catalogue?: ActionLookup } = {}): FileLoadResult[] {
  const byName = new Map<string, string>();
  return listWorkflowFiles(dir).map((file) => {
    const result: FileLoadResult = { file, ...loadWorkflowFile(file, { root: dir, ...options }) };
    const name = result.workflow?.name;
    if (name === undefined) return result;
    const first = byName.get(name);
    if (first === undefined) {
      byName.set(name, file);
      return result;
    }
    const at = nameProblemPosition(file);
    return {
      file,
      problems: [
        { file, ...at, message: `workflow name "${name}" is already used by ${first}; names must be unique` },
      ],
    };
  });
}

/** Where `name:` is written, or the top of the file when the name comes from the path. */
function nameProblemPosition(file: string): { line: number; column: number; path?: string } {
  const text = readFileSync(file, 'utf8');
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  const positions = new DocumentPositions(doc, lineCounter, text);
  return doc.has('name') ? { ...positions.value(['name']), path: 'name' } : { line: 1, column: 1 };
}
