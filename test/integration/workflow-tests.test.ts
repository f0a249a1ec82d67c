import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openWorkspace } from '../../src/cli/workspace.ts';
import { findTestFiles, mismatches, runTests } from '../../src/testing/runner.ts';
import { loadTestText } from '../../src/testing/test-file.ts';
import { listWorkflowFiles } from '../../src/workflow/loader.ts';
import { REPO } from '../helpers/cli.ts';

const FLOW = `
on: { manual: { inputs: { n: { type: number, default: 2 } } } }
tasks:
  calc:
    action: transform
    inputs:
      template:
        double: \${trigger.inputs.n * 2}
  fetch:
    action: http.request
    inputs: { url: https://example.com/x }
  after:
    depends_on: [fetch]
    action: log
    inputs: { message: "got \${tasks.fetch.output.status}" }
`;

async function run(tests: string, flow = FLOW) {
  const dir = mkdtempSync(join(tmpdir(), 'baton-wtest-'));
  writeFileSync(join(dir, 'flow.yaml'), flow);
  writeFileSync(join(dir, 'flow.test.yaml'), tests);
  const { config, catalogue } = await openWorkspace({
    BATON_WORKFLOWS_DIR: dir,
    BATON_ACTIONS_DIR: join(REPO, 'actions'),
    BATON_DATA_DIR: dir,
  });
  return { dir, ...(await runTests({ paths: [dir], config, actions: catalogue.actions })) };
}

const STUB_FETCH = 'stubs: { fetch: { output: { status: 200, headers: {}, body: ok } } }';

describe('baton test runner', () => {
  it('passes a case whose expectations hold', async () => {
    const r = await run(`cases:
  - name: ok
    trigger: { inputs: { n: 4 } }
    ${STUB_FETCH}
    expect:
      status: succeeded
      tasks:
        calc: { status: succeeded, output: { result: { double: 8 } } }
        after: { status: succeeded }
`);
    expect(r.problems).toEqual([]);
    expect(r.cases).toHaveLength(1);
    expect(r.cases[0]).toMatchObject({ name: 'ok', passed: true, reasons: [] });
  });

  it('fails on a wrong run status and on a wrong output, saying expected and actual', async () => {
    const r = await run(`cases:
  - name: status
    ${STUB_FETCH}
    expect: { status: failed }
  - name: output
    ${STUB_FETCH}
    expect: { tasks: { calc: { output: { result: { double: 5 } } } } }
`);
    expect(r.cases.map((c) => c.passed)).toEqual([false, false]);
    expect(r.cases[0]?.reasons).toEqual(['run: expected failed, got succeeded']);
    expect(r.cases[1]?.reasons).toEqual(['task "calc" output.result.double: expected 5, got 4']);
  });

  it('a stubbed error fails the task and skips what depends on it', async () => {
    const r = await run(`cases:
  - name: down
    stubs: { fetch: { error: { message: boom } } }
    expect:
      status: failed
      tasks: { fetch: { status: failed }, after: { status: skipped }, calc: { status: succeeded } }
`);
    expect(r.cases[0]).toMatchObject({ passed: true });
  });

  it('refuses to run an unstubbed network action, with a clear reason', async () => {
    const r = await run(`cases:
  - name: forgot the stub
    expect: { status: failed, tasks: { fetch: { status: failed } } }
`);
    expect(r.cases[0]?.passed).toBe(false);
    expect(r.cases[0]?.reasons).toEqual([
      'task "fetch" would call http.request for real; stub it or list it in allow_real',
    ]);
  });

  it('reports a bad test file with its line', async () => {
    const r = await run(`cases:
  - name: typo
    expect:
      stauts: succeeded
`);
    expect(r.cases).toEqual([]);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatchObject({ file: join(r.dir, 'flow.test.yaml'), line: 4 });
    expect(r.problems[0]?.message).toContain('stauts');
  });

  it('reports an unknown workflow and an unknown task', async () => {
    const unknown = await run('workflow: nope\ncases:\n  - name: x\n');
    expect(unknown.problems[0]).toMatchObject({ line: 1 });
    expect(unknown.problems[0]?.message).toContain('unknown workflow "nope"');
    const task = await run('cases:\n  - name: x\n    stubs: { fecth: { output: {} } }\n');
    expect(task.problems[0]).toMatchObject({ file: join(task.dir, 'flow.test.yaml'), line: 2 });
    expect(task.problems[0]?.message).toContain('has no task "fecth"');
  });

  it('test files are not workflows and are found by the runner', () => {
    const names = listWorkflowFiles(join(REPO, 'workflows'));
    expect(names.some((f) => f.endsWith('.test.yaml'))).toBe(false);
    expect(findTestFiles([join(REPO, 'workflows')]).length).toBeGreaterThanOrEqual(4);
  });

  it('matches outputs as deep partial values', () => {
    expect(mismatches({ a: { b: 1 } }, { a: { b: 1, c: 2 }, d: 3 }, 'output')).toEqual([]);
    expect(mismatches([1, 2], [1, 2, 3], 'output')).toEqual(['output: expected [1,2], got [1,2,3]']);
    expect(mismatches({ a: 1 }, undefined, 'output')).toEqual(['output: expected {"a":1}, got nothing']);
  });

  it('parses a test file, defaulting the workflow name to the file name', () => {
    const r = loadTestText('cases:\n  - name: x\n', '/w/a.test.yaml');
    expect(r.testFile?.workflow).toBe('a');
    expect(r.testFile?.cases[0]).toMatchObject({ trigger: { type: 'manual' }, stubs: {}, allow_real: [] });
  });
});
