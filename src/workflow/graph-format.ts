import type { TaskSpec } from './types.ts';

/** Mermaid flowchart; paste into a PR description or a README and GitHub renders it. */
export function toMermaid(tasks: TaskSpec[]): string {
  const lines = ['flowchart TD'];
  for (const t of tasks)
    lines.push(`  ${t.id}["${escapeMermaid(t.id)}<br/><small>${escapeMermaid(t.action)}</small>"]`);
  for (const t of tasks) {
    for (const dep of t.dependsOn) {
      const label = edgeLabel(t);
      lines.push(label ? `  ${dep} -->|${label}| ${t.id}` : `  ${dep} --> ${t.id}`);
    }
  }
  return lines.join('\n');
}

/** Graphviz DOT, for `dot -Tsvg`. */
export function toDot(name: string, tasks: TaskSpec[]): string {
  const lines = [`digraph ${JSON.stringify(name)} {`, '  rankdir=LR;', '  node [shape=box, style=rounded];'];
  for (const t of tasks)
    lines.push(`  ${JSON.stringify(t.id)} [label=${JSON.stringify(`${t.id}\n${t.action}`)}];`);
  for (const t of tasks) {
    for (const dep of t.dependsOn) {
      const label = edgeLabel(t);
      lines.push(
        `  ${JSON.stringify(dep)} -> ${JSON.stringify(t.id)}${label ? ` [label=${JSON.stringify(label)}]` : ''};`,
      );
    }
  }
  lines.push('}');
  return lines.join('\n');
}

function edgeLabel(task: TaskSpec): string | undefined {
  return task.when === 'on_success' ? undefined : task.when;
}

function escapeMermaid(text: string): string {
  return text.replace(/"/g, '#quot;');
}
