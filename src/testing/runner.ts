import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { isInside } from '../cli/workspace.ts';
import type { Config } from '../config.ts';
import { executeRun } from '../engine/executor.ts';
import type { TriggerData } from '../engine/types.ts';
import { coerceError, NonRetriableError, type Problem } from '../errors.ts';
import type { AnyAction } from '../plugins/define-action.ts';
import { actionEnvironment } from '../runtime.ts';
import { uuidv7 } from '../util/ids.ts';
import { checkInputs } from '../workflow/inputs.ts';
import { defaultWorkflowName, loadWorkflowDir, TEST_FILE } from '../workflow/loader.ts';
import type { Workflow } from '../workflow/types.ts';
import { loadTestFile, type TestCase, type TestFile } from './test-file.ts';

/** Actions that reach other machines: a test must stub them or list the task in `allow_real`. */
export function isNetworkAction(name: string): boolean {
  return ['http.request', 'slack.send', 'email.send'].includes(name) || name.startsWith('github.');
}

export interface CaseResult {
  file: string;
  name: string;
  passed: boolean;
  /** Why it failed: one line per unmet expectation. */
  reasons: string[];
  durationMs: number;
}

export interface TestRunResult {
  /** Bad test files and unknown or broken workflows: nothing of theirs ran. */
  problems: Problem[];
  cases: CaseResult[];
}

export interface TestRunOptions {
  paths: readonly string[];
  config: Config;
  actions: ReadonlyMap<string, AnyAction>;
  /** Cases run at once; defaults to the number of CPUs, at most 8. */
  concurrency?: number;
}

/** Every `*.test.yaml` under the paths (files are taken as given), sorted. */
export function findTestFiles(paths: readonly string[]): string[] {
  const out = new Set<string>();
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
      const path = join(folder, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && TEST_FILE.test(entry.name)) out.add(path);
    }
  };
  for (const p of paths) {
    const path = resolve(p);
    if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) walk(path);
    else out.add(path);
  }
  return [...out].sort();
}

/** Loads the test files and their workflows, then runs every case in parallel (bounded). */
export async function runTests(options: TestRunOptions): Promise<TestRunResult> {
  const problems: Problem[] = [];
  const jobs: { testFile: TestFile; workflow: Workflow; testCase: TestCase }[] = [];
  const folders = new Map<string, Map<string, { workflow?: Workflow; problems: Problem[] }>>();
  const workflowsIn = (root: string) => {
    let byName = folders.get(root);
    if (!byName) {
      byName = new Map();
      for (const r of loadWorkflowDir(root, { catalogue: { actions: options.actions } }))
        byName.set(r.workflow?.name ?? defaultWorkflowName(r.file, root), r);
      folders.set(root, byName);
    }
    return byName;
  };
  for (const file of findTestFiles(options.paths)) {
    const loaded = loadTestFile(file);
    if (!loaded.testFile) {
      problems.push(...loaded.problems);
      continue;
    }
    const { testFile } = loaded;
    const workflowsDir = resolve(options.config.workflowsDir);
    // Next to the workflows (the usual place) names are the registry's; elsewhere, the folder's.
    const root = isInside(file, workflowsDir) ? workflowsDir : dirname(file);
    const found = workflowsIn(root).get(testFile.workflow);
    if (!found) {
      problems.push({
        file,
        line: testFile.workflowLine,
        column: 1,
        message: `unknown workflow "${testFile.workflow}" (known in ${root}: ${[...workflowsIn(root).keys()].join(', ') || 'none'})`,
      });
      continue;
    }
    if (!found.workflow) {
      problems.push(...found.problems);
      continue;
    }
    const workflow = found.workflow;
    const known = new Set(workflow.tasks.map((t) => t.id));
    const unknownTasks = testFile.cases.flatMap((c, i) =>
      [...Object.keys(c.stubs), ...Object.keys(c.expect.tasks), ...c.allow_real]
        .filter((id) => !known.has(id))
        .map((id) => ({
          file,
          line: testFile.caseLines[i] ?? 1,
          column: 1,
          message: `case "${c.name}": workflow "${workflow.name}" has no task "${id}" (tasks: ${[...known].join(', ')})`,
        })),
    );
    if (unknownTasks.length > 0) {
      problems.push(...unknownTasks);
      continue;
    }
    for (const testCase of testFile.cases) jobs.push({ testFile, workflow, testCase });
  }
  const limit = Math.max(1, options.concurrency ?? Math.min(8, availableParallelism()));
  const cases = await mapBounded(jobs, limit, (job) =>
    runCase(job.testFile.file, job.workflow, job.testCase, options),
  );
  return { problems, cases };
}

async function runCase(
  file: string,
  workflow: Workflow,
  testCase: TestCase,
  options: TestRunOptions,
): Promise<CaseResult> {
  const started = Date.now();
  const reasons: string[] = [];
  const refused: string[] = [];
  const allowReal = new Set(testCase.allow_real);
  // Each action is swapped for one that answers with the stub of the task calling it, if any.
  const actions = new Map<string, AnyAction>();
  for (const [name, action] of options.actions) {
    actions.set(name, {
      ...action,
      output: z.unknown(),
      async run(ctx) {
        const stub = testCase.stubs[ctx.task.id];
        if (stub && 'error' in stub) throw new NonRetriableError(stub.error.message);
        if (stub) return stub.output;
        if (isNetworkAction(name) && !allowReal.has(ctx.task.id)) {
          const message = `task "${ctx.task.id}" would call ${name} for real; stub it or list it in allow_real`;
          refused.push(message);
          throw new NonRetriableError(message);
        }
        return action.output.parse(await action.run(ctx));
      },
    });
  }
  const filesDir = mkdtempSync(join(tmpdir(), 'baton-test-'));
  try {
    const { type, ...rest } = testCase.trigger;
    const trigger: TriggerData = { type, ...rest };
    if (rest.inputs !== undefined || ['manual', 'api', 'cli'].includes(type))
      trigger.inputs = checkInputs(workflow, rest.inputs ?? {});
    const result = await executeRun({
      workflow,
      actions,
      runId: uuidv7(),
      trigger,
      secrets: testCase.secrets,
      events: { emit() {} },
      env: { ...actionEnvironment(options.config), filesDir },
    });
    reasons.push(...refused);
    const wantStatus = testCase.expect.status ?? 'succeeded';
    if (result.status !== wantStatus)
      reasons.push(`run: expected ${wantStatus}, got ${result.status}${failureNote(result.tasks)}`);
    for (const [id, want] of Object.entries(testCase.expect.tasks)) {
      const got = result.tasks[id];
      const status = got?.status ?? 'pending';
      if (want.status !== undefined && status !== want.status) {
        const why = got?.error ? ` (${got.error.message})` : got?.reason ? ` (${got.reason})` : '';
        reasons.push(`task "${id}": expected status ${want.status}, got ${status}${why}`);
      }
      if (want.output !== undefined) {
        for (const m of mismatches(want.output, got?.output, 'output')) reasons.push(`task "${id}" ${m}`);
      }
    }
  } catch (err) {
    reasons.push(`could not run: ${coerceError(err).message}`);
  } finally {
    rmSync(filesDir, { recursive: true, force: true });
  }
  return {
    file,
    name: testCase.name,
    passed: reasons.length === 0,
    reasons,
    durationMs: Date.now() - started,
  };
}

function failureNote(tasks: Record<string, { status: string; error?: { message: string } }>): string {
  const failed = Object.entries(tasks).find(([, t]) => t.status === 'failed' && t.error);
  return failed ? ` (task "${failed[0]}": ${failed[1].error?.message})` : '';
}

/**
 * Deep partial match: every key the expectation names must match, others are ignored; lists
 * match item by item and must have the same length; other values must be equal.
 */
export function mismatches(want: unknown, got: unknown, path: string): string[] {
  if (Array.isArray(want)) {
    if (!Array.isArray(got) || got.length !== want.length)
      return [`${path}: expected ${show(want)}, got ${show(got)}`];
    return want.flatMap((w, i) => mismatches(w, got[i], `${path}[${i}]`));
  }
  if (want !== null && typeof want === 'object') {
    if (got === null || typeof got !== 'object' || Array.isArray(got))
      return [`${path}: expected ${show(want)}, got ${show(got)}`];
    return Object.entries(want).flatMap(([k, w]) =>
      mismatches(w, (got as Record<string, unknown>)[k], `${path}.${k}`),
    );
  }
  return Object.is(want, got) ? [] : [`${path}: expected ${show(want)}, got ${show(got)}`];
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return out;
}
