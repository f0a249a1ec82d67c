import type { z } from '@hono/zod-openapi';
import type { PollStatus, WorkflowSummary } from '../src/api/schemas.ts';
import type { Redactor } from '../src/engine/redact.ts';

type Summary = z.infer<typeof WorkflowSummary>;
type Entry = Summary['triggers']['schedule'][number];

export interface ScheduleLine {
  id: string;
  cron: string;
  timezone: string;
  overlap: Entry['overlap'];
  catchup: Entry['catchup'];
  /** The scheduler's next times for this entry, soonest first; empty while paused. */
  next: Date[];
}

/** The schedule entries of a workflow as the summary has them (`next_runs`, the scheduler's own times). */
export function scheduleLines(summary: Summary): ScheduleLine[] {
  return summary.triggers.schedule.map((s) => ({
    id: s.id,
    cron: s.cron,
    timezone: s.timezone,
    overlap: s.overlap,
    catchup: s.catchup,
    next: s.next_runs.map((t) => new Date(t)),
  }));
}

/** A poller counts as failing once its last poll failed (failures resets on a success). */
export function pollFailing(status: z.infer<typeof PollStatus> | null | undefined): boolean {
  return (status?.failures ?? 0) > 0;
}

/** Stored masked already; masking again at display covers a secret added since that poll. */
export function maskPollError(summary: Summary, redactor: Redactor): Summary {
  const status = summary.triggers.poll?.status;
  if (status?.last_error) status.last_error = redactor.text(status.last_error);
  return summary;
}
