import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Config } from '../config.ts';
import type { Problem } from '../errors.ts';
import type { AnyAction } from '../plugins/define-action.ts';
import { loadWorkflowDir, loadWorkflowFile } from '../workflow/loader.ts';
import { formatProblems } from '../workflow/problems-format.ts';
import { secretsNeeded } from '../workflow/secret-refs.ts';
import type { Workflow } from '../workflow/types.ts';
import { configuredSecretNames } from './secrets-command.ts';
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
  const workflows: Workflow[] = [];
  for (const target of paths.length > 0 ? paths : [config.workflowsDir]) {
    const path = resolve(target);
    if (!existsSync(path)) {
      problems.push({ file: target, line: 1, column: 1, message: 'no such file or folder' });
      continue;
    }
    if (statSync(path).isDirectory()) {
      const results = await loadWorkflowDir(path, { catalogue });
      checked += results.length;
      for (const r of results) {
        problems.push(...r.problems);
        if (r.workflow) workflows.push(r.workflow);
      }
    } else {
      const root = isInside(path, config.workflowsDir) ? config.workflowsDir : undefined;
      const r = await loadWorkflowFile(path, { root, catalogue });
      checked += 1;
      problems.push(...r.problems);
      if (r.workflow) workflows.push(r.workflow);
    }
  }
  const secretWarnings = await missingSecrets(workflows, catalogue.actions, config);
  if (format === 'text') {
    for (const w of secretWarnings) out(`warning: ${w}`);
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
  if (format === 'github') for (const w of secretWarnings) out(`::warning::${w}`);
  return problems.length === 0 ? 0 : 1;
}

/**
 * Secrets the workflows read that are configured nowhere, by name. Warnings, not problems: CI
 * that validates a pull request rarely holds production secrets.
 */
async function missingSecrets(
  workflows: Workflow[],
  actions: ReadonlyMap<string, AnyAction>,
  config: Config,
): Promise<string[]> {
  const needs = workflows.flatMap((w) => secretsNeeded(w, actions).map((n) => ({ ...n, workflow: w.name })));
  if (needs.length === 0) return [];
  const { names, note } = await configuredSecretNames(config, process.env);
  const missing = needs.filter((n) => !names.has(n.name));
  const lines = missing.map(
    (n) => `workflow "${n.workflow}" needs secret ${n.name} (${n.where}), which is not configured`,
  );
  if (lines.length > 0 && note) lines.push(note);
  return lines;
}
