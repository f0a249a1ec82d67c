import { describe, expect, it } from 'vitest';
import { dueTimes, nextTimes, scheduleKey, timesInRange } from '../../../src/triggers/schedule-times.ts';
import type { Catchup } from '../../../src/workflow/types.ts';

const at = (iso: string) => new Date(iso);
const iso = (dates: Date[]) => dates.map((d) => d.toISOString());
const everySecond = (catchup: Catchup, catchupLimit = 10) => ({
  cron: '* * * * * *',
  timezone: 'UTC',
  catchup,
  catchupLimit,
});

// Pure arithmetic over given instants: no clock is read, so no fake timers are needed.
describe('dueTimes', () => {
  const cursor = at('2026-01-01T00:00:02Z');
  const now = at('2026-01-01T00:00:10.300Z');

  it('fires the times within the grace; catchup none drops the older ones', () => {
    const due = dueTimes({ schedule: everySecond('none'), cursor, now, graceMs: 1000 });
    expect(iso(due.fire)).toEqual(['2026-01-01T00:00:10.000Z']);
    expect(due.catchup).toEqual([]);
    expect(due.dropped).toBe(7); // 03..09
    expect(due.latest?.toISOString()).toBe('2026-01-01T00:00:10.000Z');
  });

  it('catchup latest adds the last missed time only', () => {
    const due = dueTimes({ schedule: everySecond('latest'), cursor, now, graceMs: 1000 });
    expect(iso(due.catchup)).toEqual(['2026-01-01T00:00:09.000Z']);
    expect(iso(due.fire)).toEqual(['2026-01-01T00:00:09.000Z', '2026-01-01T00:00:10.000Z']);
    expect(due.dropped).toBe(6);
  });

  it('catchup all adds every missed time, the latest catchup_limit of them, oldest first', () => {
    const all = dueTimes({ schedule: everySecond('all'), cursor, now, graceMs: 1000 });
    expect(all.catchup).toHaveLength(7);
    expect(all.dropped).toBe(0);
    const limited = dueTimes({ schedule: everySecond('all', 3), cursor, now, graceMs: 1000 });
    expect(iso(limited.catchup)).toEqual([
      '2026-01-01T00:00:07.000Z',
      '2026-01-01T00:00:08.000Z',
      '2026-01-01T00:00:09.000Z',
    ]);
    expect(limited.dropped).toBe(4);
  });

  it('fires nothing at or before the cursor, and nothing in the future', () => {
    const due = dueTimes({
      schedule: everySecond('all'),
      cursor: at('2026-01-01T00:00:10Z'),
      now,
      graceMs: 1000,
    });
    expect(due).toEqual({ fire: [], catchup: [], dropped: 0 });
  });

  it('with a long grace, a short outage is still on time (no catch-up needed)', () => {
    const due = dueTimes({ schedule: everySecond('none'), cursor, now, graceMs: 60_000 });
    expect(due.fire).toHaveLength(8);
    expect(due.catchup).toEqual([]);
  });

  it('a long outage of a daily schedule keeps only what the policy asks for', () => {
    const daily = { cron: '0 6 * * *', timezone: 'Europe/Berlin', catchup: 'all' as const, catchupLimit: 2 };
    const due = dueTimes({
      schedule: daily,
      cursor: at('2025-11-01T05:00:00Z'),
      now: at('2026-01-01T12:00:00Z'),
      graceMs: 2000,
    });
    // 06:00 Berlin is 05:00Z in winter
    expect(iso(due.fire)).toEqual(['2025-12-31T05:00:00.000Z', '2026-01-01T05:00:00.000Z']);
    expect(due.dropped).toBe(59);
  });
});

describe('nextTimes', () => {
  it('follows the time zone through daylight saving as croner does', () => {
    // 02:30 does not exist in Berlin on 2026-03-29: croner runs it at 03:00 CEST (01:00Z)
    expect(
      iso(nextTimes({ cron: '30 2 * * *', timezone: 'Europe/Berlin' }, at('2026-03-28T00:00:00Z'), 3)),
    ).toEqual(['2026-03-28T01:30:00.000Z', '2026-03-29T01:00:00.000Z', '2026-03-30T00:30:00.000Z']);
    // 09:00 every day stays 09:00 local across the autumn change (EDT, then EST from Nov 1st)
    expect(
      iso(nextTimes({ cron: '0 9 * * *', timezone: 'America/New_York' }, at('2026-10-31T12:00:00Z'), 2)),
    ).toEqual(['2026-10-31T13:00:00.000Z', '2026-11-01T14:00:00.000Z']);
  });

  it('runs a fixed time once on the night clocks go back; a stepped pattern keeps its real-time rhythm', () => {
    const berlin = (cron: string, after: string, n: number) =>
      iso(nextTimes({ cron, timezone: 'Europe/Berlin' }, at(after), n));
    // 02:30 happens twice on 2026-10-25 (CEST, then CET): one run, at the first
    expect(berlin('30 2 * * *', '2026-10-24T12:00:00Z', 2)).toEqual([
      '2026-10-25T00:30:00.000Z',
      '2026-10-26T01:30:00.000Z',
    ]);
    expect(berlin('*/30 * * * *', '2026-10-24T23:50:00Z', 4)).toEqual([
      '2026-10-25T00:00:00.000Z',
      '2026-10-25T00:30:00.000Z',
      '2026-10-25T01:00:00.000Z',
      '2026-10-25T01:30:00.000Z',
    ]);
  });

  it('reads a six-field cron with seconds', () => {
    expect(
      iso(nextTimes({ cron: '*/20 * * * * *', timezone: 'UTC' }, at('2026-01-01T00:00:05Z'), 3)),
    ).toEqual(['2026-01-01T00:00:20.000Z', '2026-01-01T00:00:40.000Z', '2026-01-01T00:01:00.000Z']);
  });
});

describe('timesInRange and scheduleKey', () => {
  it('includes both ends and stops at the bound', () => {
    const hourly = { cron: '0 * * * *', timezone: 'UTC' };
    expect(iso(timesInRange(hourly, at('2025-01-01T00:00:00Z'), at('2025-01-01T02:00:00Z'), 100))).toEqual([
      '2025-01-01T00:00:00.000Z',
      '2025-01-01T01:00:00.000Z',
      '2025-01-01T02:00:00.000Z',
    ]);
    expect(timesInRange(hourly, at('2025-01-01T00:00:00Z'), at('2025-12-31T00:00:00Z'), 5)).toHaveLength(5);
  });

  it('names workflow, entry and time', () => {
    expect(scheduleKey('ops/nightly', 'main', at('2025-01-01T06:00:00Z'))).toBe(
      'schedule:ops/nightly:main:2025-01-01T06:00:00.000Z',
    );
  });
});
