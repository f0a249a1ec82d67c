/** @jsxImportSource hono/jsx */
import type { Redactor } from '../../src/engine/redact.ts';
import type { TaskLogRow, TaskRunRow } from '../../src/store/schema.ts';
import { JsonBlock } from './json.tsx';
import { StatusBadge } from './status.tsx';
import { elapsedMs, formatDuration, Time } from './time.tsx';
import { isReused } from './timeline.tsx';

/** A task of a run with every attempt it made, newest first. */
export interface TaskView {
  id: string;
  action: string;
  attempts: TaskRunRow[];
  status: string;
}

/**
 * Tasks in the order of the pinned definition, each with its attempts. A task with no attempt yet
 * is pending while the run goes, and was skipped once it has ended.
 */
export function taskViews(
  rows: readonly TaskRunRow[],
  defined: readonly { id: string; action: string }[],
  finished: boolean,
): TaskView[] {
  const byTask = new Map<string, TaskRunRow[]>();
  for (const row of rows) {
    const list = byTask.get(row.taskId);
    if (list) list.push(row);
    else byTask.set(row.taskId, [row]);
  }
  const known = new Set(defined.map((t) => t.id));
  const ids = [...known, ...[...byTask.keys()].filter((id) => !known.has(id))];
  return ids.map((id) => {
    const attempts = [...(byTask.get(id) ?? [])].sort((a, b) => b.attempt - a.attempt);
    const latest = attempts[0];
    return {
      id,
      action: latest?.action ?? defined.find((t) => t.id === id)?.action ?? '',
      attempts,
      status: latest?.status ?? (finished ? 'skipped' : 'pending'),
    };
  });
}

/** What the task list needs besides the tasks: the clock, the redactor and the run's log lines. */
export interface TaskContext {
  now: Date;
  redactor: Redactor;
  /** Log lines by `${taskId}#${attempt}`. */
  logs: ReadonlyMap<string, TaskLogRow[]>;
}

export function groupLogs(lines: readonly TaskLogRow[]): Map<string, TaskLogRow[]> {
  const out = new Map<string, TaskLogRow[]>();
  for (const line of lines) {
    const key = `${line.taskId}#${line.attempt}`;
    const list = out.get(key);
    if (list) list.push(line);
    else out.set(key, [line]);
  }
  return out;
}

/** `code` and message of a serialized error, in the error colour. */
export function ErrorSummary({ error, redactor }: { error: unknown; redactor: Redactor }) {
  if (!error || typeof error !== 'object') return null;
  const e = error as { code?: unknown; message?: unknown };
  if (typeof e.message !== 'string') return null;
  return (
    <p class="error-message">
      {typeof e.code === 'string' && <code>{e.code}</code>} {redactor.text(e.message)}
    </p>
  );
}

function logClass(line: TaskLogRow): string {
  if (line.level === 'error' || line.stream === 'stderr') return 'log-line log-error';
  return line.level === 'warn' ? 'log-line log-warn' : 'log-line';
}

function Logs({ lines, redactor }: { lines: readonly TaskLogRow[]; redactor: Redactor }) {
  if (lines.length === 0) return null;
  return (
    <div class="jblock">
      <div class="block-label">Log ({lines.length} lines)</div>
      <pre class="log">
        {lines.map((l) => (
          <span class={logClass(l)}>
            <span class="log-at">{l.at.toISOString().slice(11, 23)}</span> {redactor.text(l.message)}
            {'\n'}
          </span>
        ))}
      </pre>
    </div>
  );
}

function Attempt({ row, ctx }: { row: TaskRunRow; ctx: TaskContext }) {
  const { redactor, now } = ctx;
  return (
    <article class="attempt" data-attempt={row.attempt}>
      <header class="attempt-head">
        <strong>{row.attempt === 0 ? 'Not started' : `Attempt ${row.attempt}`}</strong>
        <StatusBadge status={row.status} />
        {row.startedAt && (
          <span class="muted small">
            started <Time at={row.startedAt} now={now} exact />
          </span>
        )}
        {row.startedAt && (
          <span class="muted small">
            took {formatDuration(row.durationMs ?? elapsedMs(row.startedAt, row.finishedAt, now))}
          </span>
        )}
        {row.retryAt && (
          <span class="muted small">
            retry <Time at={row.retryAt} now={now} />
          </span>
        )}
      </header>
      {row.reason && <p class="muted small">{redactor.text(row.reason)}</p>}
      <ErrorSummary error={row.error} redactor={redactor} />
      <JsonBlock label="Error" value={row.error} redactor={redactor} />
      <JsonBlock label="Input" value={row.input} redactor={redactor} />
      <JsonBlock label="Output" value={row.output} redactor={redactor} />
      <Logs lines={ctx.logs.get(`${row.taskId}#${row.attempt}`) ?? []} redactor={redactor} />
    </article>
  );
}

/** One task as a collapsible row: status, id, action, attempts and time; its attempts inside. */
export function TaskDetails({ task, ctx }: { task: TaskView; ctx: TaskContext }) {
  const latest = task.attempts[0];
  const tried = task.attempts.filter((a) => a.attempt > 0).length;
  return (
    <details class="task" id={`task-${task.id}`} data-task={task.id} data-status={task.status}>
      <summary>
        <StatusBadge status={task.status} />
        <span class="task-id">{task.id}</span>
        <span class="muted mono small">{task.action}</span>
        {latest && isReused(latest) && (
          <span class="tag" title={latest.reason ?? undefined}>
            reused
          </span>
        )}
        <span class="task-meta muted small">
          {tried > 1 && `${tried} attempts · `}
          {latest?.startedAt
            ? formatDuration(latest.durationMs ?? elapsedMs(latest.startedAt, latest.finishedAt, ctx.now))
            : ''}
        </span>
      </summary>
      <div class="task-body">
        {task.attempts.length === 0 ? (
          <p class="muted">Not started.</p>
        ) : (
          task.attempts.map((row) => <Attempt row={row} ctx={ctx} />)
        )}
      </div>
    </details>
  );
}
