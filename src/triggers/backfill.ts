import { ValidationError } from '../errors.ts';
import type { ScheduleTrigger, Workflow } from '../workflow/types.ts';
import { scheduleKey, timesInRange } from './schedule-times.ts';
import type { StartFn } from './scheduler.ts';

/** Most scheduled times one backfill may start; a larger range is split by the user on purpose. */
export const MAX_BACKFILL_RUNS = 10_000;

export interface BackfillRequest {
  workflow: Workflow;
  from: Date;
  to: Date;
  /** Only this schedule entry (by id); every entry when unset. */
  entry?: string;
}

export interface BackfillItem {
  entry: string;
  scheduledAt: string;
  runId: string;
  created: boolean;
}

/** An ISO 8601 date or date-time, strictly: `2025-01-31` or `2025-01-31T09:00:00Z` (UTC unless an offset is given). */
export function parseBackfillTime(value: string, flag: string): Date {
  const text = value.trim();
  const iso = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;
  if (!iso.test(text)) {
    throw new ValidationError(
      `${flag} "${value}" is not an ISO date or time; write e.g. 2025-01-31 or 2025-01-31T09:00:00Z`,
    );
  }
  // A bare date or a time without an offset is read as UTC, whatever the machine's zone.
  const hasZone = /(?:Z|[+-]\d{2}:?\d{2})$/.test(text) && text.includes('T');
  const date = new Date(
    text.length === 10 ? `${text}T00:00:00Z` : hasZone ? text : `${text.replace(' ', 'T')}Z`,
  );
  // Date rolls 2025-02-30 over to March 2nd: check the calendar day exists.
  const [y, m, d] = text.slice(0, 10).split('-').map(Number) as [number, number, number];
  const day = new Date(Date.UTC(y, m - 1, d));
  if (Number.isNaN(date.getTime()) || day.getUTCMonth() !== m - 1 || day.getUTCDate() !== d) {
    throw new ValidationError(`${flag} "${value}" is not a real date`);
  }
  return date;
}

/** The entries a backfill covers, after checking the request. */
function entriesFor(request: BackfillRequest): ScheduleTrigger[] {
  const { workflow, from, to } = request;
  const entries = workflow.triggers.schedule ?? [];
  if (entries.length === 0)
    throw new ValidationError(`workflow "${workflow.name}" has no on.schedule to backfill`);
  if (from.getTime() > to.getTime()) {
    throw new ValidationError(`--from (${from.toISOString()}) is after --to (${to.toISOString()})`);
  }
  if (request.entry === undefined) return entries;
  const match = entries.filter((e) => e.id === request.entry);
  if (match.length === 0) {
    throw new ValidationError(
      `workflow "${workflow.name}" has no schedule entry "${request.entry}" (entries: ${entries.map((e) => e.id).join(', ')})`,
    );
  }
  return match;
}

/** Every scheduled time in [from, to] per entry, oldest first; refuses a range over the limit before starting anything. */
export function backfillPlan(request: BackfillRequest): { entry: ScheduleTrigger; at: Date }[] {
  const plan: { entry: ScheduleTrigger; at: Date }[] = [];
  for (const entry of entriesFor(request)) {
    const times = timesInRange(entry, request.from, request.to, MAX_BACKFILL_RUNS + 1);
    for (const at of times) plan.push({ entry, at });
    if (plan.length > MAX_BACKFILL_RUNS) {
      throw new ValidationError(
        `the range holds more than ${MAX_BACKFILL_RUNS} scheduled times; backfill a shorter range at a time`,
      );
    }
  }
  return plan.sort((a, b) => a.at.getTime() - b.at.getTime());
}

/**
 * Starts the runs of past scheduled times with the scheduler's own keys, so a time that already ran
 * (scheduled or backfilled) is reported as existing and not started again. Overlap does not apply:
 * the runs are queued at once and run as workers are free.
 */
export async function backfill(start: StartFn, request: BackfillRequest): Promise<BackfillItem[]> {
  const out: BackfillItem[] = [];
  for (const { entry, at } of backfillPlan(request)) {
    const { run, created } = await start({
      workflow: request.workflow,
      trigger: {
        type: 'schedule',
        inputs: entry.inputs,
        scheduled_at: at.toISOString(),
        schedule: entry.id,
        backfill: true,
      },
      idempotencyKey: scheduleKey(request.workflow.name, entry.id, at),
    });
    out.push({ entry: entry.id, scheduledAt: at.toISOString(), runId: run.id, created });
  }
  return out;
}
