import { existsSync } from 'node:fs';
import { relative } from 'node:path';
import { runTests } from '../testing/runner.ts';
import { formatProblems } from '../workflow/problems-format.ts';
import { openWorkspace } from './workspace.ts';

export interface TestCommandOptions {
  paths: string[];
  json: boolean;
  out: (line: string) => void;
  err: (line: string) => void;
}

/**
 * `baton test [paths…]`: runs the `*.test.yaml` cases in process. Exit 0 when all pass, 1 when
 * one fails, 2 when a test file is bad or names a workflow that does not exist or load.
 */
export async function testCommand(opts: TestCommandOptions): Promise<number> {
  const { config, catalogue } = await openWorkspace();
  for (const p of catalogue.problems) opts.err(`warning: ${p.file}: ${p.message}`);
  const paths = opts.paths.length > 0 ? opts.paths : [config.workflowsDir];
  const missing = paths.filter((p) => !existsSync(p));
  if (missing.length > 0) {
    opts.err(`error: no such file or folder: ${missing.join(', ')}`);
    return 2;
  }
  const { problems, cases } = await runTests({ paths, config, actions: catalogue.actions });
  const passed = cases.filter((c) => c.passed).length;
  const failed = cases.length - passed;
  if (opts.json) {
    opts.out(JSON.stringify({ passed, failed, problems, cases }, null, 2));
  } else {
    for (const c of cases) {
      const at = relative(process.cwd(), c.file) || c.file;
      opts.out(`${c.passed ? '✓' : '✗'} ${at} › ${c.name} (${c.durationMs} ms)`);
      for (const reason of c.reasons) opts.out(`    ${reason}`);
    }
    if (problems.length > 0) opts.err(formatProblems(problems, 'text'));
    if (cases.length === 0 && problems.length === 0) opts.out(`no *.test.yaml files in ${paths.join(', ')}`);
    opts.out(`${passed} passed, ${failed} failed`);
  }
  if (problems.length > 0) return 2;
  return failed > 0 ? 1 : 0;
}
