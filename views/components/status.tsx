/** @jsxImportSource hono/jsx */
/** Statuses differ by colour, icon and word, so they read the same without colour. */
const STATUS: Record<string, { icon: string; label: string }> = {
  queued: { icon: '○', label: 'queued' },
  pending: { icon: '○', label: 'pending' },
  running: { icon: '◐', label: 'running' },
  succeeded: { icon: '✓', label: 'succeeded' },
  failed: { icon: '✕', label: 'failed' },
  cancelled: { icon: '⊘', label: 'cancelled' },
  timed_out: { icon: '⧗', label: 'timed out' },
  skipped: { icon: '↷', label: 'skipped' },
};

export const ACTIVE_STATUSES: ReadonlySet<string> = new Set(['queued', 'running']);

export function statusIcon(status: string): string {
  return STATUS[status]?.icon ?? '?';
}

export function statusLabel(status: string): string {
  return STATUS[status]?.label ?? status;
}

/** A CSS class that is safe whatever a row holds. */
export function statusClass(status: string): string {
  return `st-${STATUS[status] ? status : 'unknown'}`;
}

export function StatusBadge({ status, compact = false }: { status: string; compact?: boolean }) {
  return (
    <span class={`status ${statusClass(status)}`} data-status={status} title={statusLabel(status)}>
      <span class="status-icon" aria-hidden="true">
        {statusIcon(status)}
      </span>
      {compact ? <span class="visually-hidden">{statusLabel(status)}</span> : statusLabel(status)}
    </span>
  );
}

export interface StripRun {
  id: string;
  status: string;
  createdAt: Date;
}

/** The last runs of a workflow, oldest on the left, one linked cell each. */
export function HistoryStrip({ runs }: { runs: readonly StripRun[] }) {
  if (runs.length === 0) return <span class="muted">no runs yet</span>;
  const oldestFirst = [...runs].reverse();
  const failed = runs.filter((r) => r.status === 'failed' || r.status === 'timed_out').length;
  return (
    <span class="strip" role="img" aria-label={`last ${runs.length} runs: ${failed} failed`}>
      {oldestFirst.map((r) => (
        <a
          class={`strip-cell ${statusClass(r.status)}`}
          href={`/runs/${r.id}`}
          title={`${statusLabel(r.status)} · ${r.createdAt.toISOString()}`}
        >
          <span aria-hidden="true">{statusIcon(r.status)}</span>
          <span class="visually-hidden">{statusLabel(r.status)}</span>
        </a>
      ))}
    </span>
  );
}
