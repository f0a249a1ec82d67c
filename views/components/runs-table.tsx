/** @jsxImportSource hono/jsx */
import type { RunRow } from '../../src/store/schema.ts';
import { runHref, workflowHref } from '../render.tsx';
import { ACTIVE_STATUSES, StatusBadge } from './status.tsx';
import { elapsedMs, formatDuration, Time } from './time.tsx';

/** How often a row of a run still going asks for itself again. */
export const ROW_POLL = 'every 2s';

export const shortId = (id: string) => id.slice(-8);

/**
 * One run as a table row. A run still going polls its own row and swaps it whole; the row of a
 * finished run carries no trigger, so polling stops by itself.
 */
export function RunRowView({
  run,
  now,
  showWorkflow = true,
}: {
  run: RunRow;
  now: Date;
  showWorkflow?: boolean;
}) {
  const live = ACTIVE_STATUSES.has(run.status);
  const liveAttrs = live
    ? {
        'hx-get': `/runs/${run.id}/row${showWorkflow ? '' : '?workflow=0'}`,
        'hx-trigger': ROW_POLL,
        'hx-swap': 'outerHTML',
      }
    : {};
  return (
    <tr id={`run-${run.id}`} class={live ? 'live' : undefined} data-status={run.status} {...liveAttrs}>
      <td data-label="Status">
        <StatusBadge status={run.status} />
      </td>
      {showWorkflow && (
        <td data-label="Workflow">
          <a href={workflowHref(run.workflow)}>{run.workflow}</a>
        </td>
      )}
      <td data-label="Run">
        <a class="mono" href={runHref(run.id)} title={run.id}>
          {shortId(run.id)}
        </a>
        {run.parentRunId && (
          <span class="muted small" title={`retry of ${run.parentRunId}`}>
            {' '}
            ↺ {shortId(run.parentRunId)}
          </span>
        )}
      </td>
      <td data-label="Trigger">
        <span class="tag">{run.triggerType}</span>
      </td>
      <td data-label="Created">
        <Time at={run.createdAt} now={now} />
      </td>
      <td data-label="Duration" class="num">
        {formatDuration(elapsedMs(run.startedAt, run.finishedAt, now))}
      </td>
    </tr>
  );
}

export function RunsTableHead({ showWorkflow = true }: { showWorkflow?: boolean }) {
  return (
    <thead>
      <tr>
        <th scope="col">Status</th>
        {showWorkflow && <th scope="col">Workflow</th>}
        <th scope="col">Run</th>
        <th scope="col">Trigger</th>
        <th scope="col">Created</th>
        <th scope="col" class="num">
          Duration
        </th>
      </tr>
    </thead>
  );
}

export function RunsTable({
  runs,
  now,
  showWorkflow = true,
  empty = 'No runs yet.',
}: {
  runs: readonly RunRow[];
  now: Date;
  showWorkflow?: boolean;
  empty?: string;
}) {
  if (runs.length === 0) return <p class="empty">{empty}</p>;
  return (
    <div class="table-wrap">
      <table class="runs stack">
        <RunsTableHead showWorkflow={showWorkflow} />
        <tbody>
          {runs.map((r) => (
            <RunRowView run={r} now={now} showWorkflow={showWorkflow} />
          ))}
        </tbody>
      </table>
    </div>
  );
}
