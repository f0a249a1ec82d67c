import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/db.ts';
import { type RunRow, runs, scheduleBacklog } from '../../src/store/schema.ts';
import { createTestStore } from '../helpers/db.ts';
import { instanceFactory } from '../helpers/instances.ts';
import { waitFor } from '../helpers/wait-for.ts';

// Real Postgres, real clocks: schedules fire on wall-clock seconds, so these tests take seconds.

let ctx: Awaited<ReturnType<typeof createTestStore>>;
let store: Store;

beforeAll(async () => {
  ctx = await createTestStore();
  store = ctx.store;
});
afterAll(async () => {
  await ctx?.cleanup();
});

const runsOf = (workflow: string): Promise<RunRow[]> =>
  store.db.select().from(runs).where(eq(runs.workflow, workflow)).orderBy(asc(runs.createdAt));

const scheduledAt = (run: RunRow) => (run.trigger as { scheduled_at: string }).scheduled_at;
const isCatchup = (run: RunRow) => (run.trigger as { catchup?: boolean }).catchup === true;
const seconds = (list: RunRow[]) => list.map((r) => Date.parse(scheduledAt(r))).sort((a, b) => a - b);

/** True when the times (ms) are one second apart each, without gaps. */
const contiguous = (times: number[]) =>
  times.every((t, i) => i === 0 || t - (times[i - 1] as number) === 1000);

const everySecond = (name: string, extra = '') => `name: ${name}
on:
  schedule:
    - cron: "* * * * * *"
${extra}
steps:
  - action: log
    inputs: { message: "tick \${trigger.scheduled_at}" }
`;

describe('schedules across instances (Postgres)', () => {
  it('three schedulers on one database start exactly one run per second, each with its scheduled_at', async () => {
    // A generous grace: this test is about exactly once, so a loaded machine stalling all three
    // for a second or two must not turn a time into a missed one (catch-up is tested below).
    const f = instanceFactory({ databaseUrl: ctx.database.url, env: { BATON_SCHEDULE_GRACE: '5s' } });
    try {
      f.write('tick.yaml', everySecond('tick', '      id: every-second'));
      const instances = await Promise.all([f.start(), f.start(), f.start()]);
      // ~10 s of schedule: wait for ten runs, however long the machine takes to start the three.
      await waitFor(async () => (await runsOf('tick')).length >= 10, { timeoutMs: 20_000, intervalMs: 200 });
      await Promise.all(instances.map((i) => f.stop(i)));

      const all = await runsOf('tick');
      const times = seconds(all);
      expect(all.length).toBeGreaterThanOrEqual(10);
      expect(new Set(times).size).toBe(all.length); // one run per scheduled time
      expect(contiguous(times)).toBe(true); // and no second left out
      for (const run of all) {
        const at = scheduledAt(run);
        expect(at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
        expect(run.idempotencyKey).toBe(`schedule:tick:every-second:${at}`);
        expect(run.triggerType).toBe('schedule');
        // scheduled_at is the scheduled time, not when the run was created (which is at or after it)
        expect(run.createdAt.getTime()).toBeGreaterThanOrEqual(Date.parse(at));
      }
      // All three really raced for the same times: together they created each run once, and each
      // of them tried (nearly) every second, the others' attempts coming back as existing runs.
      const counts = instances.map((i) => i.scheduler?.counts ?? { started: 0, existing: 0, skipped: 0 });
      expect(counts.reduce((n, c) => n + c.started, 0)).toBe(all.length);
      for (const c of counts) expect(c.started + c.existing).toBeGreaterThanOrEqual(all.length - 3);
      const lateness = all
        .map((r) => r.createdAt.getTime() - Date.parse(scheduledAt(r)))
        .sort((a, b) => a - b);
      console.log(
        `three schedulers, ${all.length} runs: ${JSON.stringify(counts)}; run created after its time: ` +
          `median ${lateness[Math.floor(lateness.length / 2)]} ms, max ${lateness.at(-1)} ms`,
      );
    } finally {
      await f.cleanup();
    }
  }, 40_000);

  it('after 5 s with no scheduler: catchup none starts nothing missed, latest one run, all every time', async () => {
    // The default grace (2 s): times at most 2 s late are on time, older ones were missed.
    const f = instanceFactory({ databaseUrl: ctx.database.url, env: { BATON_SCHEDULE_GRACE: '2s' } });
    try {
      // overlap: allow, so catch-up runs are not skipped for each other; and one entry that
      // catches up through the queue, one run after the other
      f.write(
        'catchup-queued.yaml',
        everySecond('catchup-queued', '      overlap: queue\n      catchup: all\n      catchup_limit: 30'),
      );
      for (const mode of ['none', 'latest', 'all']) {
        f.write(
          `catchup-${mode}.yaml`,
          everySecond(
            `catchup-${mode}`,
            `      overlap: allow\n      catchup: ${mode}${mode === 'all' ? '\n      catchup_limit: 30' : ''}`,
          ),
        );
      }
      const names = ['catchup-none', 'catchup-latest', 'catchup-all', 'catchup-queued'];
      const first = await f.start();
      await waitFor(async () => (await Promise.all(names.map(runsOf))).every((r) => r.length >= 2), {
        timeoutMs: 15_000,
        intervalMs: 100,
      });
      await f.stop(first);
      const before = new Map<string, number>();
      for (const name of names) before.set(name, Math.max(...seconds(await runsOf(name))));

      // The downtime under test: no scheduler runs for 5 s.
      await new Promise((r) => setTimeout(r, 5000));

      const second = await f.start();
      await waitFor(
        async () =>
          (await Promise.all(names.map(runsOf))).every(
            (r) =>
              r.filter(
                (run) => !isCatchup(run) && Date.parse(scheduledAt(run)) > (before.get(run.workflow) ?? 0),
              ).length >= 2,
          ),
        { timeoutMs: 15_000, intervalMs: 100 },
      );
      await f.stop(second);

      const after = async (name: string) => {
        const last = before.get(name) as number;
        return (await runsOf(name)).filter((r) => Date.parse(scheduledAt(r)) > last);
      };
      const gapOf = async (name: string) => {
        const list = await after(name);
        const onTime = seconds(list.filter((r) => !isCatchup(r)));
        // Catch-up of the downtime: flagged runs before the first on-time one. (A loaded machine
        // stalling more than the grace after the restart may flag a later time too: that is
        // correct behaviour, but not the downtime this test is about.)
        const late = list.filter((r) => isCatchup(r) && Date.parse(scheduledAt(r)) < (onTime[0] as number));
        return { list, late, onTime, last: before.get(name) as number };
      };

      // none: a gap of missed seconds, nothing started late
      const none = await gapOf('catchup-none');
      expect(none.list.filter(isCatchup)).toEqual([]);
      expect((none.onTime[0] as number) - none.last).toBeGreaterThanOrEqual(3000);

      // latest: one late run, for the last missed second (just before the first on-time one)
      const latest = await gapOf('catchup-latest');
      expect(latest.late).toHaveLength(1);
      const lateAt = Date.parse(scheduledAt(latest.late[0] as RunRow));
      expect(lateAt).toBe((latest.onTime[0] as number) - 1000);
      expect(lateAt - latest.last).toBeGreaterThanOrEqual(2000); // the times before it were dropped

      // all: every missed second started late, none lost, none twice
      const all = await gapOf('catchup-all');
      const times = [all.last, ...seconds(all.list)];
      expect(all.late.length).toBeGreaterThanOrEqual(3);
      expect(contiguous(times)).toBe(true);
      expect(new Set(times).size).toBe(times.length);
      // the same through the queue: every missed second, in order, flagged as catch-up
      const queued = await gapOf('catchup-queued');
      const queuedTimes = [queued.last, ...seconds(queued.list)];
      expect(queued.late.length).toBeGreaterThanOrEqual(3);
      expect(contiguous(queuedTimes)).toBe(true);
      expect(new Set(queuedTimes).size).toBe(queuedTimes.length);
      for (const run of [...latest.late, ...all.late]) {
        // it really was late: created more than the grace after its time
        expect(run.createdAt.getTime() - Date.parse(scheduledAt(run))).toBeGreaterThan(2000);
      }
    } finally {
      await f.cleanup();
    }
  }, 60_000);

  it('overlap: skip leaves times out while a slow run goes on; queue keeps every time and runs them one by one', async () => {
    const f = instanceFactory({ databaseUrl: ctx.database.url });
    try {
      const slow = (name: string, overlap: string) => `name: ${name}
on:
  schedule:
    - cron: "* * * * * *"
      overlap: ${overlap}
steps:
  - action: sleep
    inputs: { duration: 1800ms }
`;
      f.write('slow-skip.yaml', slow('slow-skip', 'skip'));
      f.write('slow-queue.yaml', slow('slow-queue', 'queue'));
      const instance = await f.start();
      const finished = async (name: string) =>
        (await runsOf(name)).filter((r) => r.status === 'succeeded').length;
      await waitFor(async () => (await finished('slow-skip')) >= 3 && (await finished('slow-queue')) >= 3, {
        timeoutMs: 25_000,
        intervalMs: 200,
      });
      await f.stop(instance);

      for (const name of ['slow-skip', 'slow-queue']) {
        // never two runs of the entry at once
        const spans = (await runsOf(name))
          .filter((r) => r.startedAt && r.finishedAt)
          .map((r) => ({ start: (r.startedAt as Date).getTime(), end: (r.finishedAt as Date).getTime() }))
          .sort((a, b) => a.start - b.start);
        spans.forEach((span, i) => {
          if (i > 0) expect(span.start).toBeGreaterThanOrEqual((spans[i - 1] as { end: number }).end);
        });
      }
      // skip: the seconds while a run went on have no run at all
      const skipTimes = seconds(await runsOf('slow-skip'));
      for (let i = 1; i < skipTimes.length; i++) {
        expect((skipTimes[i] as number) - (skipTimes[i - 1] as number)).toBeGreaterThanOrEqual(2000);
      }
      // queue: every second has a run or still waits in the backlog, in order
      const queued = await runsOf('slow-queue');
      const waiting = await store.db
        .select()
        .from(scheduleBacklog)
        .where(eq(scheduleBacklog.workflow, 'slow-queue'));
      const queueTimes = [...seconds(queued), ...waiting.map((w) => w.scheduledAt.getTime())].sort(
        (a, b) => a - b,
      );
      expect(waiting.length).toBeGreaterThan(0);
      expect(contiguous(queueTimes)).toBe(true);
      expect(new Set(queueTimes).size).toBe(queueTimes.length);
      const byStart = queued
        .filter((r) => r.startedAt)
        .sort((a, b) => (a.startedAt as Date).getTime() - (b.startedAt as Date).getTime());
      expect(seconds(byStart)).toEqual(byStart.map((r) => Date.parse(scheduledAt(r)))); // oldest first
    } finally {
      await f.cleanup();
    }
  }, 60_000);
});
