/** @jsxImportSource hono/jsx */
import type { Problem } from '../../src/errors.ts';

/** Problems of a workflow file, each with `file:line:column` like `baton validate` prints them. */
export function ProblemList({
  problems,
  showFile = true,
}: {
  problems: readonly Problem[];
  showFile?: boolean;
}) {
  if (problems.length === 0) return null;
  return (
    <ul class="problems">
      {problems.map((p) => (
        <li>
          <code class="where">
            {showFile ? `${p.file}:` : 'line '}
            {p.line}:{p.column}
          </code>{' '}
          <span>{p.message}</span>
        </li>
      ))}
    </ul>
  );
}

/** An error as a fragment: what the pages show instead of the JSON the API answers. */
export function ErrorFragment({ status, code, message }: { status: number; code: string; message: string }) {
  return (
    <div class="alert alert-error" role="alert" data-code={code}>
      <strong>
        <span aria-hidden="true">✕ </span>
        {titleOf(status, code)}
      </strong>
      <span> {message}</span>
    </div>
  );
}

function titleOf(status: number, code: string): string {
  if (code === 'not_found') return 'Not found.';
  if (code === 'conflict') return 'Not possible now.';
  if (code === 'validation' || code === 'spec') return 'Invalid input.';
  if (code === 'unauthorized') return 'Not allowed.';
  return status >= 500 ? 'Something went wrong.' : 'Error.';
}
