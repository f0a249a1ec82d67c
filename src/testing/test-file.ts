import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import type { Problem } from '../errors.ts';
import { sortProblems } from '../workflow/loader.ts';
import { DocumentPositions, formatPath } from '../workflow/positions.ts';
import type { SchemaLike } from '../workflow/schema-walk.ts';
import { issuesToFindings } from '../workflow/zod-problems.ts';

const TASK_STATUS = z.enum(['succeeded', 'failed', 'skipped', 'cancelled', 'timed_out']);
const RUN_STATUS = z.enum(['succeeded', 'failed', 'cancelled', 'timed_out']);

const stubSchema = z.union([
  z.strictObject({ output: z.unknown() }),
  z.strictObject({ error: z.strictObject({ message: z.string().min(1) }) }),
]);

const caseSchema = z.strictObject({
  name: z.string().min(1),
  trigger: z
    .strictObject({
      type: z.enum(['manual', 'api', 'cli', 'webhook', 'schedule', 'poll']).default('manual'),
      inputs: z.record(z.string(), z.unknown()).optional(),
      body: z.unknown().optional(),
      headers: z.record(z.string(), z.string()).optional(),
      query: z.record(z.string(), z.string()).optional(),
      /** A poll run's item (`trigger.item`). */
      item: z.unknown().optional(),
    })
    .default({ type: 'manual' }),
  /** Secrets the run sees (`secrets.*` in templates); the environment's are never used. */
  secrets: z.record(z.string(), z.string()).default({}),
  stubs: z.record(z.string(), stubSchema).default({}),
  /** Tasks whose network action may really run. */
  allow_real: z.array(z.string()).default([]),
  expect: z
    .strictObject({
      status: RUN_STATUS.optional(),
      tasks: z
        .record(
          z.string(),
          z.strictObject({ status: TASK_STATUS.optional(), output: z.unknown().optional() }),
        )
        .default({}),
    })
    .default({ tasks: {} }),
});

export const testFileSchema = z.strictObject({
  workflow: z.string().min(1).optional(),
  cases: z.array(caseSchema).min(1),
});

export type TestCase = z.output<typeof caseSchema>;
export type Stub = z.output<typeof stubSchema>;

export interface TestFile {
  file: string;
  workflow: string;
  cases: TestCase[];
  /** Where each case starts, for messages about it (unknown task ids). */
  caseLines: number[];
  /** Where to point a problem with the workflow name. */
  workflowLine: number;
}

export type TestFileLoad =
  | { testFile: TestFile; problems: [] }
  | { testFile?: undefined; problems: Problem[] };

/** `workflows/a/b.test.yaml` → `b` unless the file says `workflow:`. */
export function defaultTestedName(file: string): string {
  return basename(file).replace(/\.test\.ya?ml$/i, '');
}

export function loadTestFile(file: string): TestFileLoad {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return {
      problems: [{ file, line: 1, column: 1, message: `cannot read the file: ${(err as Error).message}` }],
    };
  }
  return loadTestText(text, file);
}

/** Parses and checks a test file; problems carry line and column like `baton validate`'s. */
export function loadTestText(text: string, file: string): TestFileLoad {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const positions = new DocumentPositions(doc, lineCounter, text);
  if (doc.errors.length > 0) {
    return {
      problems: sortProblems(
        doc.errors.map((e) => ({
          file,
          ...positions.offset(e.pos[0]),
          message: `invalid YAML: ${e.message}`,
        })),
      ),
    };
  }
  const data: unknown = doc.toJS();
  const parsed = testFileSchema.safeParse(data);
  if (!parsed.success) {
    const findings = issuesToFindings(parsed.error.issues, {
      schema: testFileSchema as unknown as SchemaLike,
      data,
    });
    return {
      problems: sortProblems(
        findings.map((f) => {
          const at = f.at === 'key' ? positions.key(f.path) : positions.value(f.path);
          const problem: Problem = { file, ...at, message: f.message };
          if (f.path.length > 0) problem.path = formatPath(f.path);
          return problem;
        }),
      ),
    };
  }
  return {
    testFile: {
      file,
      workflow: parsed.data.workflow ?? defaultTestedName(file),
      cases: parsed.data.cases,
      caseLines: parsed.data.cases.map((_, i) => positions.value(['cases', i]).line),
      workflowLine: positions.value(['workflow']).line,
    },
    problems: [],
  };
}
