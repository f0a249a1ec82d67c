import type { StartRunRequest, startRun } from '../engine/start-run.ts';
import { BatonError } from '../errors.ts';
import type { Db } from '../store/db.ts';
import {
  activeScheduleRun,
  addToBacklog,
  advanceCursor,
  backlogSize,
  databaseNow,
  loadCursors,
  oldestInBacklog,
  pausedWorkflows,
  removeFromBacklog,
} from '../store/triggers.ts';
import type { ScheduleTrigger, Workflow } from '../workflow/types.ts';
import { dueTimes, nextTimes, scheduleKey } from './schedule-times.ts';

export type TriggerLog = (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void;
export type StartFn = (request: StartRunRequest) => ReturnType<typeof startRun>;

export interface SchedulerOptions {
  db: Db;
  start: StartFn;
  /** The workflows that may start runs now (hot reload changes this between ticks). */
  workflows: () => Iterable<Workflow>;
  /** Longest sleep between ticks; a tick also happens right after each scheduled time. */
  tickMs: number;
  /** A scheduled time at most this late still fires as on time; older ones follow `catchup`. */
  graceMs: number;
  log?: TriggerLog;
}

export interface Scheduler {
  /** Since start: runs this instance created, starts another instance had already made, times skipped for overlap. */
  readonly counts: { started: number; existing: number; skipped: number };
  /** One pass over every schedule (tests call it directly). */
  tick(): Promise<void>;
  stop(): Promise<void>;
}

/** An `overlap: queue` entry keeps at most this many times waiting; more means the workflow cannot keep up. */
export const MAX_BACKLOG = 1000;
/** How soon a scheduler looks again while times wait for a running run to end. */
const BACKLOG_RECHECK_MS = 250;

/**
 * Fires scheduled runs. Any number of schedulers may run against one database: each start carries
 * the key `schedule:<workflow>:<entry>:<time>`, so racing instances produce one run per time; the
 * cursor per entry (moved forward only) tells a restarted scheduler what it missed.
 */
export function startScheduler(options: SchedulerOptions): Scheduler {
  const { db } = options;
  const log: TriggerLog = options.log ?? (() => {});
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  let current: Promise<unknown> = Promise.resolve();
  const counts = { started: 0, existing: 0, skipped: 0 };
  /** Cursor rows this instance has made sure exist (rows are never deleted). */
  const known = new Set<string>();

  const fire = async (
    workflow: Workflow,
    entry: ScheduleTrigger,
    at: Date,
    catchup = false,
  ): Promise<void> => {
    try {
      const { run, created } = await options.start({
        workflow,
        trigger: {
          type: 'schedule',
          inputs: entry.inputs,
          scheduled_at: at.toISOString(),
          schedule: entry.id,
          ...(catchup ? { catchup: true } : {}),
        },
        idempotencyKey: scheduleKey(workflow.name, entry.id, at),
      });
      counts[created ? 'started' : 'existing'] += 1;
      if (created) log('info', `schedule: started run ${run.id} of ${workflow.name} for ${at.toISOString()}`);
    } catch (err) {
      // A run that can never start (inputs the workflow rejects) must not block the times after it.
      if (err instanceof BatonError && err.code === 'validation') {
        log('warn', `schedule: ${workflow.name} at ${at.toISOString()} cannot start: ${err.message}`);
        return;
      }
      throw err;
    }
  };

  /** Starts the oldest waiting time once the entry has no run going. */
  const drainBacklog = async (workflow: Workflow, entry: ScheduleTrigger): Promise<boolean> => {
    // Read the backlog before checking for a running run: a time another instance just started is
    // then either still in the backlog (same key, deduplicated) or its run is visible as active.
    const oldest = await oldestInBacklog(db, workflow.name, entry.id);
    if (!oldest) return false;
    const key = scheduleKey(workflow.name, entry.id, oldest.at);
    if (await activeScheduleRun(db, workflow.name, entry.id, key)) return true;
    await fire(workflow, entry, oldest.at, oldest.catchup);
    await removeFromBacklog(db, workflow.name, entry.id, oldest.at);
    return true;
  };

  /** Deals with the entry's due times; true when times of it wait in the backlog. */
  const runEntry = async (
    workflow: Workflow,
    entry: ScheduleTrigger,
    cursor: Date,
    now: Date,
  ): Promise<boolean> => {
    const due = dueTimes({ schedule: entry, cursor, now, graceMs: options.graceMs });
    if (due.dropped > 0) {
      log(
        'info',
        `schedule: ${workflow.name} [${entry.id}] missed ${due.dropped} time(s) while no scheduler ran; catchup: ${entry.catchup} leaves them out`,
      );
    }
    if (entry.overlap === 'queue') {
      if (due.fire.length > 0) {
        if ((await backlogSize(db, workflow.name, entry.id)) >= MAX_BACKLOG) {
          log(
            'warn',
            `schedule: ${workflow.name} [${entry.id}] already has ${MAX_BACKLOG} times waiting; dropping ${due.fire.length} more`,
          );
        } else {
          const times = due.fire.map((at) => ({ at, catchup: due.catchup.includes(at) }));
          await addToBacklog(db, workflow.name, entry.id, times);
        }
      }
    } else {
      for (const at of due.fire) {
        const key = scheduleKey(workflow.name, entry.id, at);
        if (entry.overlap === 'skip') {
          const running = await activeScheduleRun(db, workflow.name, entry.id, key);
          if (running) {
            counts.skipped += 1;
            log(
              'info',
              `schedule: ${workflow.name} at ${at.toISOString()} skipped: run ${running} is still going`,
            );
            continue;
          }
        }
        await fire(workflow, entry, at, due.catchup.includes(at));
      }
    }
    if (due.latest) await advanceCursor(db, workflow.name, entry.id, due.latest);
    return entry.overlap === 'queue' ? drainBacklog(workflow, entry) : false;
  };

  /** Returns how long to sleep: until just after the next scheduled time, at most one tick. */
  const tick = async (): Promise<number> => {
    const now = await databaseNow(db);
    const skew = now.getTime() - Date.now();
    const paused = await pausedWorkflows(db);
    let wake = now.getTime() + options.tickMs;
    for (const workflow of options.workflows()) {
      const entries = workflow.triggers.schedule ?? [];
      if (entries.length === 0 || paused.has(workflow.name)) continue;
      try {
        const ids = entries.map((e) => e.id);
        const unknown = ids.filter((id) => !known.has(`${workflow.name}\0${id}`));
        const cursors = await loadCursors(db, workflow.name, ids, now, unknown);
        for (const id of unknown) known.add(`${workflow.name}\0${id}`);
        for (const entry of entries) {
          const waiting = await runEntry(workflow, entry, cursors.get(entry.id) ?? now, now);
          // A waiting time starts as soon as the run before it ends: look again soon, not in a tick.
          if (waiting) wake = Math.min(wake, now.getTime() + Math.min(BACKLOG_RECHECK_MS, options.tickMs));
          const next = nextTimes(entry, now, 1)[0];
          if (next) wake = Math.min(wake, next.getTime());
        }
      } catch (err) {
        log('warn', `schedule: ${workflow.name}: ${(err as Error).message}`);
      }
    }
    // A few ms past the time, on the local clock corrected by the database's.
    return Math.max(0, wake - skew - Date.now() + 5);
  };

  const loop = () => {
    if (stopped) return;
    let delay = options.tickMs;
    current = tick()
      .then((ms) => {
        delay = Math.min(ms, options.tickMs);
      })
      .catch((err) => log('warn', `scheduler: ${(err as Error).message}`))
      .finally(() => {
        if (!stopped) timer = setTimeout(loop, delay);
      });
  };
  loop();

  return {
    counts,
    async tick() {
      await tick();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await current;
    },
  };
}
