import { Cron } from 'croner';
import type { ScheduleTrigger } from '../workflow/types.ts';

/** Pure schedule arithmetic: which times are due, which were missed, which come next. Croner does DST. */

export type ScheduleTimes = Pick<ScheduleTrigger, 'cron' | 'timezone' | 'catchup' | 'catchupLimit'>;

export interface DueInput {
  schedule: ScheduleTimes;
  /** The latest time already dealt with; times at or before it are never due again. */
  cursor: Date;
  now: Date;
  /** A time at most this late still counts as on time; older ones were missed (downtime). */
  graceMs: number;
}

export interface DueTimes {
  /** Times to start, oldest first: the missed ones the catch-up policy keeps, then every on-time one. */
  fire: Date[];
  /** The missed times among `fire` (their runs say `trigger.catchup: true`). */
  catchup: Date[];
  /** How many missed times were dropped by the policy (at least; counting stops at a bound). */
  dropped: number;
  /** The newest time at or before `now` that was considered; the cursor moves here. Undefined: nothing due. */
  latest?: Date;
}

/** Missed times counted per call at most; a long outage of a per-second cron must not enumerate days. */
const MISSED_SCAN_LIMIT = 10_000;

function cronOf(schedule: Pick<ScheduleTimes, 'cron' | 'timezone'>): Cron {
  return new Cron(schedule.cron, { paused: true, timezone: schedule.timezone });
}

/** Times in (from, to], oldest first, at most `max`. */
function between(job: Cron, from: Date, to: Date, max: number): Date[] {
  const out: Date[] = [];
  let next = job.nextRun(from);
  while (next && next.getTime() <= to.getTime() && out.length < max) {
    out.push(next);
    next = job.nextRun(next);
  }
  return out;
}

export function dueTimes(input: DueInput): DueTimes {
  const { schedule, cursor, now } = input;
  const job = cronOf(schedule);
  try {
    const boundary = new Date(Math.max(cursor.getTime(), now.getTime() - input.graceMs));
    const onTime = between(job, boundary, now, MISSED_SCAN_LIMIT);
    // Missed: after the cursor, but later than the grace allows. Only the newest few matter.
    const keep = schedule.catchup === 'all' ? schedule.catchupLimit : schedule.catchup === 'latest' ? 1 : 0;
    const missed = boundary > cursor ? newestBetween(job, cursor, boundary, keep) : { times: [], total: 0 };
    const fire = [...missed.times, ...onTime];
    const latest = onTime.at(-1) ?? missed.latest;
    const result: DueTimes = { fire, catchup: missed.times, dropped: missed.total - missed.times.length };
    if (latest) result.latest = latest;
    return result;
  } finally {
    job.stop();
  }
}

/** The newest `keep` times in (from, to], oldest first, the total count (bounded) and the newest one. */
function newestBetween(
  job: Cron,
  from: Date,
  to: Date,
  keep: number,
): { times: Date[]; total: number; latest?: Date } {
  // previousRuns walks back from `to`: a long gap costs only as much as we keep (plus the count).
  // The reference is just past `to`, so a time exactly at `to` counts; one spare covers the boundary.
  const back = job.previousRuns(keep + 2, new Date(to.getTime() + 1));
  const inRange = back.filter((t) => t.getTime() > from.getTime() && t.getTime() <= to.getTime());
  if (inRange.length === 0) return { times: [], total: 0 };
  const newest = inRange[0] as Date;
  const total = between(job, from, to, MISSED_SCAN_LIMIT).length;
  return { times: inRange.slice(0, keep).reverse(), total, latest: newest };
}

/** The next `count` scheduled times after `after`. */
export function nextTimes(
  schedule: Pick<ScheduleTimes, 'cron' | 'timezone'>,
  after: Date,
  count: number,
): Date[] {
  const job = cronOf(schedule);
  try {
    return job.nextRuns(count, after);
  } finally {
    job.stop();
  }
}

/** Scheduled times of a backfill, oldest first: every time in [from, to]. */
export function timesInRange(
  schedule: Pick<ScheduleTimes, 'cron' | 'timezone'>,
  from: Date,
  to: Date,
  max: number,
): Date[] {
  const job = cronOf(schedule);
  try {
    return between(job, new Date(from.getTime() - 1), to, max);
  } finally {
    job.stop();
  }
}

/** `schedule:<workflow>:<entry>:<ISO time>`: one run per entry and time, however many schedulers race. */
export function scheduleKey(workflow: string, entry: string, at: Date): string {
  return `schedule:${workflow}:${entry}:${at.toISOString()}`;
}
