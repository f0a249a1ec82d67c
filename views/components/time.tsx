/** @jsxImportSource hono/jsx */
/** Times are rendered on the server in UTC, with the exact instant in `datetime` and `title`. */

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number) => String(n).padStart(2, '0');

export function formatInstant(d: Date): string {
  return `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

export function formatAgo(d: Date, now: Date): string {
  const s = Math.round((now.getTime() - d.getTime()) / 1000);
  if (s < 0) return formatIn(-s);
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  return formatInstant(d);
}

function formatIn(s: number): string {
  if (s < 60) return `in ${s} s`;
  if (s < 3600) return `in ${Math.round(s / 60)} min`;
  if (s < 86_400) return `in ${Math.round(s / 3600)} h`;
  return `in ${Math.round(s / 86_400)} d`;
}

/** `850 ms`, `4.2 s`, `3 m 12 s`, `1 h 4 m`. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} m ${Math.floor(s % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} m`;
}

export function Time({
  at,
  now,
  exact = false,
}: {
  at: Date | null | undefined;
  now: Date;
  exact?: boolean;
}) {
  if (!at) return <span class="muted">—</span>;
  const iso = at.toISOString();
  return (
    <time datetime={iso} title={`${iso.replace('T', ' ').slice(0, 19)} UTC`}>
      {exact ? `${formatInstant(at)} UTC` : formatAgo(at, now)}
    </time>
  );
}

/** How long a run or attempt took, or has taken so far while it goes on. */
export function elapsedMs(start: Date | null, end: Date | null, now: Date): number | null {
  if (!start) return null;
  return (end ?? now).getTime() - start.getTime();
}
