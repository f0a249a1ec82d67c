import type { z } from '@hono/zod-openapi';
import type { WorkflowSummary } from '../src/api/schemas.ts';

type Summary = z.infer<typeof WorkflowSummary>;

export interface ScheduleLine {
  cron: string;
  timezone: string;
  next: Date | null;
}

/**
 * The schedule entries of a workflow with their next fire time. For now the times come from the
 * API's summary (croner over the declared crons); the one place to switch to the scheduler's own
 * record of what it will fire next.
 */
export function scheduleLines(summary: Summary): ScheduleLine[] {
  return summary.triggers.schedule.map((s) => ({
    cron: s.cron,
    timezone: s.timezone ?? 'UTC',
    next: s.next_run_at ? new Date(s.next_run_at) : null,
  }));
}

export function nextFire(summary: Summary): ScheduleLine | undefined {
  return scheduleLines(summary)
    .filter((s) => s.next !== null)
    .sort((a, b) => (a.next as Date).getTime() - (b.next as Date).getTime())[0];
}
