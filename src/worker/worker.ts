import { hostname } from 'node:os';
import { type EventSink, fanout } from '../engine/events.ts';
import { executeRun } from '../engine/executor.ts';
import type { TriggerData } from '../engine/types.ts';
import { CancelledError, ConflictError } from '../errors.ts';
import { sleep } from '../plugins/abort.ts';
import type { ActionEnvironment, AnyAction, ConnectionAccess } from '../plugins/define-action.ts';
import type { Queue, QueueMessage } from '../queue/queue.ts';
import type { Db } from '../store/db.ts';
import {
  type ClaimedRun,
  claimRuns,
  type Lease,
  releaseRun,
  renewLeases,
  runStatuses,
} from '../store/runs.ts';
import { storeSink } from '../store/store-sink.ts';
import { type Checkpoint, loadCheckpoint } from '../store/task-runs.ts';
import { getVersionCached } from '../store/versions.ts';
import { uuidv7 } from '../util/ids.ts';
import type { Workflow } from '../workflow/types.ts';

export interface WorkerOptions {
  db: Db;
  queue: Queue;
  actions: () => ReadonlyMap<string, AnyAction>;
  env: ActionEnvironment;
  secrets: () => Readonly<Record<string, string>> | Promise<Readonly<Record<string, string>>>;
  /** OAuth2 connections actions may call. */
  connections?: ConnectionAccess;
  concurrency: number;
  leaseMs: number;
  /** How long claim waits for new messages before checking for shutdown again. */
  blockMs?: number;
  id?: string;
  /** Also told every event of every run (e.g. the CLI printer); the store sink comes first. */
  events?: EventSink;
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
}

const FINISHED: ReadonlySet<string> = new Set(['succeeded', 'failed', 'cancelled', 'timed_out']);

interface InFlight {
  message: QueueMessage;
  lease: Lease;
  controller: AbortController;
  done: Promise<void>;
  released: boolean;
}

/**
 * Claims runs from the queue, takes each under a lease in Postgres, resumes it from its
 * checkpoint and executes it. Postgres decides who owns a run; the queue only delivers.
 */
export class Worker {
  readonly id: string;
  private readonly inflight = new Map<string, InFlight>();
  private stopping = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private beatTimer: ReturnType<typeof setInterval> | undefined;
  private beating = false;

  constructor(private readonly options: WorkerOptions) {
    this.id = options.id ?? `${hostname()}:${process.pid}:${uuidv7().slice(-8)}`;
  }

  start(): void {
    if (this.loop) return;
    this.startHeartbeat();
    this.loop = this.claimLoop();
  }

  /** Runs in progress (for tests and metrics). */
  get active(): number {
    return this.inflight.size;
  }

  /**
   * Stops claiming, lets in-flight runs finish for up to `graceMs`, then hands the rest back:
   * the lease is released first (so the aborted run's late writes are fenced off), then they are
   * re-enqueued for another worker.
   */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    this.wake?.();
    const all = () => Promise.all([...this.inflight.values()].map((f) => f.done));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const finished = await Promise.race([
      all().then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), graceMs);
      }),
    ]);
    clearTimeout(timer);
    if (!finished) {
      for (const flight of this.inflight.values()) await this.handBack(flight);
      await all();
    }
    clearInterval(this.beatTimer);
    await this.loop;
  }

  private async claimLoop(): Promise<void> {
    let backoff = 100;
    while (!this.stopping) {
      const free = this.options.concurrency - this.inflight.size;
      if (free <= 0) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
        continue;
      }
      try {
        const messages = await this.options.queue.claim(this.id, free, {
          blockMs: this.options.blockMs ?? 1000,
          staleMs: this.options.leaseMs,
        });
        backoff = 100;
        await this.beginAll(messages);
      } catch (err) {
        this.log(
          'warn',
          `claiming from the queue failed: ${(err as Error).message}; retrying in ${backoff}ms`,
        );
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 5000);
      }
    }
  }

  /** Takes the runs of a batch of messages in one statement and starts executing those it got. */
  private async beginAll(messages: QueueMessage[]): Promise<void> {
    const fresh: QueueMessage[] = [];
    const seen = new Set<string>();
    for (const message of messages) {
      if (this.stopping) return;
      // A second message for a run this worker holds, or for one already in this batch (the
      // reconciler may have re-enqueued it), is done: one execution per run.
      if (this.inflight.has(message.runId) || seen.has(message.runId)) await this.options.queue.ack(message);
      else {
        seen.add(message.runId);
        fresh.push(message);
      }
    }
    if (fresh.length === 0) return;
    let rows: ClaimedRun[];
    try {
      rows = await claimRuns(
        this.options.db,
        fresh.map((m) => m.runId),
        this.id,
        this.options.leaseMs,
      );
    } catch (err) {
      // Postgres unreachable: leave the messages pending; they are retried after the lease time.
      this.log('warn', `could not claim ${fresh.length} run(s): ${(err as Error).message}`);
      return;
    }
    const claimed = new Map(rows.map((row) => [row.id, row]));
    const started = fresh.filter((m) => claimed.has(m.runId));
    // Restart the entries' idle clocks now that the leases start, so the two expire together.
    if (started.length > 0) await this.options.queue.touch(this.id, started).catch(() => {});
    for (const message of started) this.begin(message, claimed.get(message.runId) as ClaimedRun);
    const missed = fresh.filter((m) => !claimed.has(m.runId));
    if (missed.length === 0) return;
    // Finished (or never existed): the message is done. Otherwise the run is under a live lease:
    // its owner may be dead with the lease not yet expired (the queue's idle clock starts at
    // delivery, the lease later, at the claim), so keep the message pending; it comes back after
    // the idle time, by which point the lease has expired or the run has finished.
    const statuses = await runStatuses(
      this.options.db,
      missed.map((m) => m.runId),
    ).catch(() => undefined);
    if (!statuses) return;
    for (const message of missed) {
      const status = statuses.get(message.runId);
      if (status === undefined || FINISHED.has(status)) await this.options.queue.ack(message);
    }
  }

  private begin(message: QueueMessage, row: ClaimedRun): void {
    const lease: Lease = { runId: row.id, owner: this.id, fence: row.fence };
    const controller = new AbortController();
    const flight: InFlight = { message, lease, controller, done: Promise.resolve(), released: false };
    this.inflight.set(row.id, flight);
    flight.done = this.execute(flight, row).finally(() => {
      this.inflight.delete(row.id);
      this.wake?.();
    });
  }

  private async execute(flight: InFlight, row: ClaimedRun): Promise<void> {
    const { db, queue } = this.options;
    const { lease, controller } = flight;
    try {
      const version = await getVersionCached(db, row.versionId);
      if (!version) throw new Error(`workflow version ${row.versionId} of run ${lease.runId} is missing`);
      const workflow = version.definition as Workflow;
      // A first claim of a fresh run has no task rows yet; a retry-from-failed run starts with copied ones.
      const checkpoint =
        lease.fence === 1 && row.parentRunId === null
          ? ({ completed: {}, attempts: {} } satisfies Checkpoint)
          : await loadCheckpoint(db, lease.runId);
      const trigger = row.trigger as TriggerData;
      const sink = storeSink(db, lease, {
        outputLimitBytes: this.options.env.outputLimitBytes,
        onFenced: (err) => controller.abort(err),
      });
      await executeRun({
        workflow,
        actions: this.options.actions(),
        runId: lease.runId,
        trigger,
        secrets: await this.options.secrets(),
        ...(this.options.connections ? { connections: this.options.connections } : {}),
        events: this.options.events ? fanout(sink, this.options.events) : sink,
        env: this.options.env,
        signal: controller.signal,
        runAttempt: lease.fence,
        completed: checkpoint.completed,
        priorAttempts: checkpoint.attempts,
      });
      await queue.ack(flight.message);
    } catch (err) {
      if (flight.released) return; // handed back on shutdown: re-enqueued already
      if (err instanceof ConflictError) {
        // Someone else owns the run now; their result stands.
        this.log('warn', `run ${lease.runId}: ${err.message}; leaving it to its new owner`);
        await queue.ack(flight.message).catch(() => {});
        return;
      }
      // Leave the message pending: after the lease it is taken over (or re-enqueued by the reconciler).
      this.log('error', `run ${lease.runId} stopped: ${(err as Error).message}`);
    }
  }

  /**
   * One heartbeat for all the runs this worker holds, every TTL/3: one UPDATE renews every lease and
   * reads the cancel requests, one call keeps the queue entries fresh. It notices lost leases too.
   */
  private startHeartbeat(): void {
    const { leaseMs } = this.options;
    const every = Math.max(50, Math.floor(leaseMs / 3));
    this.beatTimer = setInterval(() => {
      if (!this.beating) void this.beat();
    }, every);
  }

  private async beat(): Promise<void> {
    const { db, queue, leaseMs } = this.options;
    // Runs being cancelled keep their lease while their tasks clean up (up to a few seconds).
    const flights = [...this.inflight.values()].filter((f) => !f.released);
    if (flights.length === 0) return;
    this.beating = true;
    try {
      const states = await renewLeases(
        db,
        this.id,
        flights.map((f) => f.lease),
        leaseMs,
      );
      for (const flight of flights) {
        const state = states.get(flight.lease.runId);
        // Finished meanwhile: its entry is acked, nothing to do.
        if (!this.inflight.has(flight.lease.runId)) continue;
        if (flight.controller.signal.aborted) continue;
        if (!state?.kept) {
          flight.controller.abort(new ConflictError(`lease on run ${flight.lease.runId} was taken over`));
        } else if (state.cancelRequested) {
          flight.controller.abort(new CancelledError('run cancelled on request'));
        }
      }
      const live = flights.filter((f) => states.get(f.lease.runId)?.kept);
      await queue
        .touch(
          this.id,
          live.map((f) => f.message),
        )
        .catch(() => {});
    } catch (err) {
      this.log('warn', `heartbeat for ${flights.length} run(s) failed: ${(err as Error).message}`);
    } finally {
      this.beating = false;
    }
  }

  private async handBack(flight: InFlight): Promise<void> {
    flight.released = true;
    try {
      await releaseRun(this.options.db, flight.lease);
      flight.controller.abort(new CancelledError('worker shutting down; run handed back'));
      await this.options.queue.enqueue(flight.lease.runId);
      await this.options.queue.ack(flight.message);
    } catch (err) {
      flight.controller.abort(new CancelledError('worker shutting down'));
      this.log('warn', `could not hand back run ${flight.lease.runId}: ${(err as Error).message}`);
    }
  }

  private log(level: 'info' | 'warn' | 'error', message: string): void {
    this.options.log?.(level, `[worker ${this.id}] ${message}`);
  }
}
