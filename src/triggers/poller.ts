import type { ActionEnvironment, AnyAction, ConnectionAccess } from '../plugins/define-action.ts';
import type { Db } from '../store/db.ts';
import type { PollerRow } from '../store/schema.ts';
import {
  acquirePollLease,
  databaseNow,
  markSeen,
  recordPoll,
  releasePollLeases,
  seenKeys,
} from '../store/triggers.ts';
import { formatDuration } from '../util/duration.ts';
import type { Workflow } from '../workflow/types.ts';
import { pollItems } from './poll-once.ts';
import type { StartFn, TriggerLog } from './scheduler.ts';

export interface PollersOptions {
  db: Db;
  start: StartFn;
  workflows: () => Iterable<Workflow>;
  actions: () => ReadonlyMap<string, AnyAction>;
  env: ActionEnvironment;
  secrets: () => Readonly<Record<string, string>> | Promise<Readonly<Record<string, string>>>;
  /** OAuth2 connections actions may call. */
  connections?: ConnectionAccess;
  /** This instance's name in the lease rows. */
  owner: string;
  /** How long a lease lasts without renewal; another instance takes over a dead one's after this. */
  leaseMs: number;
  /** Longest sleep between passes (each pass renews the leases this instance holds). */
  tickMs: number;
  /** Failed polls back off exponentially from the interval up to this. */
  maxBackoffMs: number;
  log?: TriggerLog;
}

export interface Pollers {
  tick(): Promise<void>;
  stop(): Promise<void>;
}

/** The wait after `failures` failures in a row: interval × 2^failures, capped (never below the interval). */
export function pollBackoff(intervalMs: number, failures: number, maxMs: number): number {
  return Math.min(intervalMs * 2 ** Math.min(failures, 30), Math.max(maxMs, intervalMs));
}

/**
 * Runs each workflow's `on.poll`: one instance at a time per workflow (a lease row, database clock),
 * new items decided against the seen keys in Postgres, one run per new item in the order given,
 * each started with the key `poll:<item key>` so even two pollers racing start it once.
 */
export function startPollers(options: PollersOptions): Pollers {
  const { db, owner } = options;
  const log: TriggerLog = options.log ?? (() => {});
  const inflight = new Map<string, Promise<void>>();
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  let current: Promise<unknown> = Promise.resolve();

  const pollOnce = async (workflow: Workflow, state: PollerRow): Promise<void> => {
    const poll = workflow.triggers.poll;
    if (!poll) return;
    try {
      const items = await pollItems(workflow, poll, {
        actions: options.actions(),
        env: options.env,
        secrets: await options.secrets(),
        ...(options.connections ? { connections: options.connections } : {}),
        signal: controller.signal,
        log,
      });
      let started = 0;
      if (!state.primed && !poll.fireExisting) {
        await markSeen(
          db,
          workflow.name,
          items.map((i) => i.key),
        );
        log(
          'info',
          `poll: first poll of ${workflow.name} recorded ${items.length} existing item(s); they do not fire`,
        );
      } else {
        const seen = await seenKeys(
          db,
          workflow.name,
          items.map((i) => i.key),
        );
        for (const { item, key } of items) {
          if (seen.has(key)) continue;
          // The run first, then the key: a crash in between repeats the start, which the run's key dedupes.
          const { run, created } = await options.start({
            workflow,
            trigger: { type: 'poll', item, inputs: {} },
            idempotencyKey: `poll:${key}`,
          });
          await markSeen(db, workflow.name, [key]);
          if (created) {
            started += 1;
            log('info', `poll: started run ${run.id} of ${workflow.name} for item ${key}`);
          }
        }
      }
      await recordPoll(db, workflow.name, owner, { ok: true, newItems: started, nextInMs: poll.intervalMs });
    } catch (err) {
      if (stopped) return;
      const failures = state.failures + 1;
      const wait = pollBackoff(poll.intervalMs, failures, options.maxBackoffMs);
      const message = (err as Error).message;
      log(
        'warn',
        `poll: ${workflow.name} failed (${failures} in a row): ${message}; next try in ${formatDuration(wait)}`,
      );
      await recordPoll(db, workflow.name, owner, { ok: false, error: message, nextInMs: wait }).catch(
        () => {},
      );
    }
  };

  /** Renews or takes leases, starts due polls; returns how long to sleep. */
  const tick = async (): Promise<number> => {
    const now = await databaseNow(db);
    let sleep = options.tickMs;
    for (const workflow of options.workflows()) {
      if (!workflow.triggers.poll || stopped) continue;
      const state = await acquirePollLease(db, workflow.name, owner, options.leaseMs);
      if (!state || state.leaseOwner !== owner || inflight.has(workflow.name)) continue;
      const dueIn = state.nextPollAt ? state.nextPollAt.getTime() - now.getTime() : 0;
      if (dueIn > 0) {
        sleep = Math.min(sleep, dueIn + 5);
        continue;
      }
      const run = pollOnce(workflow, state).finally(() => inflight.delete(workflow.name));
      inflight.set(workflow.name, run);
      sleep = Math.min(sleep, workflow.triggers.poll.intervalMs);
    }
    return sleep;
  };

  const loop = () => {
    if (stopped) return;
    let delay = options.tickMs;
    current = tick()
      .then((ms) => {
        delay = Math.max(10, ms);
      })
      .catch((err) => log('warn', `pollers: ${(err as Error).message}`))
      .finally(() => {
        if (!stopped) timer = setTimeout(loop, delay);
      });
  };
  loop();

  return {
    async tick() {
      await tick();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      controller.abort();
      await current;
      await Promise.allSettled([...inflight.values()]);
      await releasePollLeases(db, owner).catch((err) =>
        log('warn', `pollers: could not hand back leases: ${(err as Error).message}`),
      );
    },
  };
}
