/** @jsxImportSource hono/jsx */
import type { TaskRunRow } from '../../src/store/schema.ts';
import { statusClass, statusIcon, statusLabel } from './status.tsx';
import { elapsedMs, formatDuration } from './time.tsx';

export const isReused = (row: TaskRunRow) => row.reason?.startsWith('reused from run ') === true;

/** Bars are drawn in a 1000-wide SVG stretched to the row: no inline styles (the CSP allows none). */
const SCALE = 1000;

/**
 * Start and duration of every task attempt against the run's clock. An attempt still going runs
 * to now; attempts that never started (skipped, cancelled before starting) have no bar.
 */
export function Timeline({
  rows,
  runStart,
  runEnd,
  now,
}: {
  rows: readonly TaskRunRow[];
  runStart: Date | null;
  runEnd: Date | null;
  now: Date;
}) {
  // Attempts a retry-from-failed copied from the original run did not run in this one.
  const started = rows.filter((r) => r.startedAt !== null && !isReused(r));
  if (started.length === 0 || !runStart) return <p class="empty">No task has started yet.</p>;
  const origin = Math.min(runStart.getTime(), ...started.map((r) => (r.startedAt as Date).getTime()));
  const end = Math.max((runEnd ?? now).getTime(), ...started.map((r) => (r.finishedAt ?? now).getTime()));
  const total = Math.max(end - origin, 1);
  const sorted = [...started].sort(
    (a, b) => (a.startedAt as Date).getTime() - (b.startedAt as Date).getTime(),
  );
  return (
    <div class="timeline">
      <div class="tl-row tl-axis">
        <span>task · attempt</span>
        <span class="tl-scale">
          <span>0</span>
          <span>{formatDuration(total)}</span>
        </span>
        <span class="num">took</span>
      </div>
      {sorted.map((r) => {
        const start = (r.startedAt as Date).getTime() - origin;
        const ms = r.durationMs ?? elapsedMs(r.startedAt, r.finishedAt, now) ?? 0;
        const x = (start / total) * SCALE;
        const width = Math.max((ms / total) * SCALE, 3);
        return (
          <div class="tl-row" data-task={r.taskId}>
            <a class="tl-label" href={`#task-${r.taskId}`}>
              <span class={`tl-icon ${statusClass(r.status)}`} aria-hidden="true">
                {statusIcon(r.status)}
              </span>{' '}
              {r.taskId}
              {r.attempt > 1 && <span class="muted"> #{r.attempt}</span>}
            </a>
            <svg
              class="tl-track"
              viewBox={`0 0 ${SCALE} 10`}
              preserveAspectRatio="none"
              role="img"
              aria-label={`${statusLabel(r.status)}, started at +${formatDuration(start)}`}
            >
              <rect
                class={`tl-bar ${statusClass(r.status)}`}
                x={x.toFixed(1)}
                y="0"
                width={Math.min(width, SCALE - x).toFixed(1)}
                height="10"
                rx="2"
              />
            </svg>
            <span class="num small">{formatDuration(ms)}</span>
          </div>
        );
      })}
    </div>
  );
}
