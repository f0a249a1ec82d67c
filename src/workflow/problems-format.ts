import type { Problem } from '../errors.ts';

export type ProblemFormat = 'text' | 'json' | 'github';

/**
 * Renders problems for a terminal (`file:line:column: message`, what editors link), for tools
 * (a JSON array) or as GitHub Actions workflow commands, which annotate the pull request diff.
 */
export function formatProblems(problems: readonly Problem[], format: ProblemFormat): string {
  switch (format) {
    case 'json':
      return JSON.stringify(problems, null, 2);
    case 'github':
      return problems
        .map(
          (p) =>
            `::error file=${escapeProperty(p.file)},line=${p.line},col=${p.column}::${escapeData(p.message)}`,
        )
        .join('\n');
    default:
      return problems.map((p) => `${p.file}:${p.line}:${p.column}: ${p.message}`).join('\n');
  }
}

/** GitHub's escaping for a command's message. */
export function escapeData(value: string): string {
  return value.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** Properties also end at `,` and `:`, so those are escaped as well. */
export function escapeProperty(value: string): string {
  return escapeData(value).replace(/:/g, '%3A').replace(/,/g, '%2C');
}
