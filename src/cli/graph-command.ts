import { toDot, toMermaid } from '../workflow/graph-format.ts';
import { formatProblems } from '../workflow/problems-format.ts';
import { openWorkspace, resolveWorkflow } from './workspace.ts';

/** `baton graph <file|name>`: the DAG as Mermaid (default) or DOT. */
export async function graphCommand(
  target: string,
  format: 'mermaid' | 'dot',
  out: (line: string) => void,
  err: (line: string) => void,
): Promise<number> {
  const { config, catalogue } = await openWorkspace();
  const loaded = await resolveWorkflow(target, config, catalogue);
  if (!loaded.workflow) {
    err(formatProblems(loaded.problems, 'text'));
    return 2;
  }
  const { workflow } = loaded;
  out(format === 'dot' ? toDot(workflow.name, workflow.tasks) : toMermaid(workflow.tasks));
  return 0;
}
