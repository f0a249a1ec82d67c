import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Problem } from '../errors.ts';
import { loadWorkflowDir, loadWorkflowFile } from '../workflow/loader.ts';
import { formatProblems } from '../workflow/problems-format.ts';
import { isInside, openWorkspace } from './workspace.ts';

export type ProblemFormat = 'text' | 'json' | 'github';

/** `baton validate [paths…]`: every problem in every file; non-zero exit on any. */
export async function validateCommand(
  paths: string[],
  format: ProblemFormat,
  out: (line: string) => void,
): Promise<number> {
  const { config, catalogue } = await openWorkspace();
  const problems: Problem[] = catalogue.problems.map((p) => ({
    file: p.file,
    line: 1,
    column: 1,
    message: `action file ${p.message}`,
  }));
  let checked = 0;
  for (const target of paths.length > 0 ? paths : [config.workflowsDir]) {
    const path = resolve(target);
    if (!existsSync(path)) {
      problems.push({ file: target, line: 1, column: 1, message: 'no such file or folder' });
      continue;
    }
    if (statSync(path).isDirectory()) {
      const results = await loadWorkflowDir(path, { catalogue });
      checked += results.length;
      for (const r of results) problems.push(...r.problems);
    } else {
      const root = isInside(path, config.workflowsDir) ? config.workflowsDir : undefined;
      const r = await loadWorkflowFile(path, { root, catalogue });
      checked += 1;
      problems.push(...r.problems);
    }
  }
  if (format === 'text') {
    if (problems.length > 0) out(formatProblems(problems, 'text'));
    const noun = checked === 1 ? 'workflow file' : 'workflow files';
    out(
      problems.length === 0
        ? `✔ ${checked} ${noun} valid`
        : `✖ ${problems.length} problem(s) in ${checked} ${noun}`,
    );
  } else if (format === 'json' || problems.length > 0) {
    out(formatProblems(problems, format));
  }
  return problems.length === 0 ? 0 : 1;
}
