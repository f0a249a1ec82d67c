import { and, asc, eq, inArray, isNotNull, isNull, lt, or, type SQL, sql } from 'drizzle-orm';
import type { TriggerData, TriggerType } from '../engine/types.ts';
import { batcher } from '../util/batcher.ts';
import { uuidv7 } from '../util/ids.ts';
import { type Db, hotDb, rowsOf } from './db.ts';
import { type RunRow, runs } from './schema.ts';
import { renderedOnce } from './statements.ts';

/** What a worker holds while it executes a run; every write it makes carries it. */
export interface Lease {
  runId: string;
  owner: string;
  fence: number;
}

export type FinalRunStatus = 'succeeded' | 'failed' | 'cancelled' | 'timed_out';

export interface NewRun {
  id?: string;
  /** The workflow's name. */
  workflow: string;
  versionId: string;
  triggerType: TriggerType;
  trigger: TriggerData;
  idempotencyKey?: string;
  parentRunId?: string;
}

const ACTIVE = ['queued', 'running'];

/** The lease is free: nobody holds it, or the holder let it expire (database clock). */
const leaseFree = () => or(isNull(runs.leaseOwner), lt(runs.leaseExpiresAt, sql`now()`));

const leaseUntil = (leaseMs: number) =>
  sql`now() + (${leaseMs}::double precision * interval '1 millisecond')`;

/** Idempotency keys are unique per workflow. */
const conflictTarget = {
  target: [runs.workflow, runs.idempotencyKey],
  where: sql`${runs.idempotencyKey} is not null`,
};

/**
 * Commits a queued run. With an idempotency key, a repeated trigger (even many at once) gets the
 * first run back with `created: false`; keys are scoped to the workflow.
 */
export async function createRun(db: Db, input: NewRun): Promise<{ run: RunRow; created: boolean }> {
  const values = runValues(input);
  if (input.idempotencyKey === undefined) {
    const [run] = await db.insert(runs).values(values).returning();
    return { run: run as RunRow, created: true };
  }
  const [run] = await db.insert(runs).values(values).onConflictDoNothing(conflictTarget).returning();
  if (run) return { run, created: true };
  // ON CONFLICT waited for the first insert to commit, so a fresh statement sees its row.
  const [first] = await db
    .select()
    .from(runs)
    .where(and(eq(runs.workflow, input.workflow), eq(runs.idempotencyKey, input.idempotencyKey)));
  if (!first)
    throw new Error(`run for ${input.workflow} key ${input.idempotencyKey} vanished after a conflict`);
  return { run: first, created: false };
}

/**
 * The row as inserted. `enqueued_at` is set at insert because the caller enqueues right after the
 * commit: the reconciler leaves the run alone for its grace time and re-queues it only if that
 * enqueue never happened (or was lost).
 */
export function runValues(input: NewRun) {
  return {
    id: input.id ?? uuidv7(),
    workflow: input.workflow,
    versionId: input.versionId,
    status: 'queued',
    triggerType: input.triggerType,
    trigger: input.trigger,
    idempotencyKey: input.idempotencyKey ?? null,
    parentRunId: input.parentRunId ?? null,
    enqueuedAt: sql`now()`,
  };
}

export async function getRun(db: Db, id: string): Promise<RunRow | undefined> {
  const [row] = await db.select().from(runs).where(eq(runs.id, id));
  return row;
}

/** Records that the run was just put on the queue (the reconciler leaves it alone for a while). */
export async function markEnqueued(db: Db, runId: string): Promise<void> {
  await db.update(runs).set({ enqueuedAt: sql`now()` }).where(eq(runs.id, runId));
}

/**
 * Takes the run if it is queued or running without a live lease, in one statement: bumps the fence,
 * so writes from any previous holder are rejected from now on. Undefined when it is not claimable.
 * Returns the whole row (a second statement): workers use claimRuns.
 */
export async function claimRun(
  db: Db,
  runId: string,
  owner: string,
  leaseMs: number,
): Promise<RunRow | undefined> {
  const [claimed] = await claimRuns(db, [runId], owner, leaseMs);
  return claimed ? getRun(db, claimed.id) : undefined;
}

/** What a worker needs of a run it has just claimed. */
export interface ClaimedRun {
  id: string;
  /** The fence after the claim: every write of this holder carries it. */
  fence: number;
  versionId: string;
  trigger: unknown;
  parentRunId: string | null;
}

// The ids as one text parameter: one statement (one prepared plan) for any batch size. Only the
// columns a worker reads come back: the whole row cost more to decode than the claim to run.
const claimSql = renderedOnce(
  (owner: string, leaseMs: number, ids: string) => sql`
    update ${runs} set
      lease_owner = ${owner},
      lease_expires_at = now() + (${leaseMs}::double precision * interval '1 millisecond'),
      fence = ${runs.fence} + 1,
      status = 'running',
      started_at = coalesce(${runs.startedAt}, now())
    where ${runs.id} = any(string_to_array(${ids}, ',')::uuid[])
      and ${runs.status} in ('queued', 'running')
      and (${runs.leaseOwner} is null or ${runs.leaseExpiresAt} < now())
    returning ${runs.id} as id, ${runs.fence} as fence, ${runs.versionId} as version_id,
              ${runs.trigger} as trigger, ${runs.parentRunId} as parent_run_id`,
);

/** The UPDATE of claimRuns (exported so tests can check its plan). */
export function claimStatement(owner: string, runIds: string[], leaseMs: number): SQL {
  return claimSql(owner, leaseMs, runIds.join(','));
}

/**
 * Takes every claimable run of `runIds` (a worker's batch of queue messages) in one statement:
 * lease to `owner`, fence bumped, status running.
 */
export async function claimRuns(
  db: Db,
  runIds: string[],
  owner: string,
  leaseMs: number,
): Promise<ClaimedRun[]> {
  if (runIds.length === 0) return [];
  const result = await hotDb(db).execute(claimStatement(owner, runIds, leaseMs));
  const rows = rowsOf<{
    id: string;
    fence: number;
    version_id: string;
    trigger: unknown;
    parent_run_id: string | null;
  }>(result);
  return rows.map((r) => ({
    id: r.id,
    fence: Number(r.fence),
    versionId: r.version_id,
    trigger: r.trigger,
    parentRunId: r.parent_run_id,
  }));
}

/** Status of each run that exists, by id. */
export async function runStatuses(db: Db, runIds: string[]): Promise<Map<string, string>> {
  if (runIds.length === 0) return new Map();
  const rows = await db
    .select({ id: runs.id, status: runs.status })
    .from(runs)
    .where(inArray(runs.id, runIds));
  return new Map(rows.map((r) => [r.id, r.status]));
}

export function leaseOf(run: Pick<RunRow, 'id' | 'leaseOwner' | 'fence'>): Lease {
  if (!run.leaseOwner) throw new Error(`run ${run.id} is not leased`);
  return { runId: run.id, owner: run.leaseOwner, fence: run.fence };
}

/** Extends the lease; false when the run was taken over (or finished) meanwhile. */
export async function renewLease(
  db: Db,
  runId: string,
  owner: string,
  fence: number,
  leaseMs: number,
): Promise<boolean> {
  const rows = await db
    .update(runs)
    .set({ leaseExpiresAt: leaseUntil(leaseMs) })
    .where(and(eq(runs.id, runId), eq(runs.leaseOwner, owner), eq(runs.fence, fence)))
    .returning({ id: runs.id });
  return rows.length === 1;
}

/** What one worker's heartbeat learns about each run it holds. */
export interface LeaseState {
  /** The lease was extended; false when the run was taken over (or finished) meanwhile. */
  kept: boolean;
  cancelRequested: boolean;
}

/** The UPDATE of renewLeases (exported so tests can check its plan). */
export function renewStatement(
  owner: string,
  held: { runId: string; fence: number }[],
  leaseMs: number,
): SQL {
  const input = JSON.stringify(held.map((h) => ({ id: h.runId, fence: h.fence })));
  return sql`
    with x as (select * from jsonb_to_recordset(${input}::jsonb) as x(id uuid, fence integer))
    update ${runs} set lease_expires_at = ${leaseUntil(leaseMs)}
    from x
    where ${runs.id} = any(array(select id from x)) and ${runs.id} = x.id and ${runs.fence} = x.fence
      and ${runs.leaseOwner} = ${owner}
    returning ${runs.id} as id, ${runs.cancelRequested} as cancel`;
}

/**
 * renewLease for every run a worker holds, in one statement, reading each run's cancel request in
 * the same pass: a worker's heartbeat costs one round trip however many runs it has.
 */
export async function renewLeases(
  db: Db,
  owner: string,
  held: { runId: string; fence: number }[],
  leaseMs: number,
): Promise<Map<string, LeaseState>> {
  if (held.length === 0) return new Map();
  const result = await hotDb(db).execute(renewStatement(owner, held, leaseMs));
  const rows = rowsOf<{
    id: string;
    cancel: boolean;
  }>(result);
  const kept = new Map(rows.map((r) => [r.id, r.cancel]));
  return new Map(
    held.map((h) => [h.runId, { kept: kept.has(h.runId), cancelRequested: kept.get(h.runId) === true }]),
  );
}

/**
 * Settles the run and frees the lease; false (and nothing written) when the fence moved on or the
 * run was released. Repeating it after a lost reply is harmless (same fence, already finished).
 */
export async function finishRun(
  db: Db,
  lease: Lease,
  outcome: { status: FinalRunStatus; error?: unknown },
): Promise<boolean> {
  const rows = await db
    .update(runs)
    .set({
      status: outcome.status,
      error: outcome.error ?? null,
      finishedAt: sql`now()`,
      leaseOwner: null,
      leaseExpiresAt: null,
    })
    .where(
      and(
        eq(runs.id, lease.runId),
        eq(runs.fence, lease.fence),
        or(eq(runs.leaseOwner, lease.owner), isNotNull(runs.finishedAt)),
      ),
    )
    .returning({ id: runs.id });
  return rows.length === 1;
}

/**
 * `id = any(array(...))`: the planner guesses 100 rows for jsonb_to_recordset and would hash-join
 * them against a sequential scan of runs; an array of ids keeps it on the primary key.
 */
export function finishStatement(inputs: FinishInput[]): SQL {
  return finishSql(JSON.stringify(inputs));
}

const finishSql = renderedOnce(
  (json: string) => sql`
    with x as (
      select * from jsonb_to_recordset(${json}::jsonb)
        as x(run_id uuid, fence integer, owner text, status text, error jsonb)
    )
    update ${runs} set
      status = x.status, error = x.error, finished_at = now(), lease_owner = null, lease_expires_at = null
    from x
    where ${runs.id} = any(array(select run_id from x)) and ${runs.id} = x.run_id and ${runs.fence} = x.fence
      and (${runs.leaseOwner} = x.owner or ${runs.finishedAt} is not null)
    returning ${runs.id} as id`,
);

export interface FinishInput {
  run_id: string;
  fence: number;
  owner: string;
  status: FinalRunStatus;
  error?: unknown;
}

const finishBatchers = new WeakMap<Db, (input: FinishInput) => Promise<boolean | { error: unknown }>>();

async function finishBatch(db: Db, inputs: FinishInput[]): Promise<(boolean | { error: unknown })[]> {
  try {
    const result = await hotDb(db).execute(finishStatement(inputs));
    const rows = rowsOf<{
      id: string;
    }>(result);
    const done = new Set(rows.map((r) => r.id));
    return inputs.map((input) => done.has(input.run_id));
  } catch (error) {
    if (inputs.length === 1) return [{ error }];
    return Promise.all(inputs.map(async (input) => (await finishBatch(db, [input]))[0] as boolean));
  }
}

/** finishRun, group-committed across the runs of a process (same result per run). */
export async function finishRunBatched(
  db: Db,
  lease: Lease,
  outcome: { status: FinalRunStatus; error?: unknown },
): Promise<boolean> {
  let finish = finishBatchers.get(db);
  if (!finish) {
    finish = batcher((inputs: FinishInput[]) => finishBatch(db, inputs), { maxBatch: 200, concurrency: 2 });
    finishBatchers.set(db, finish);
  }
  const input: FinishInput = {
    run_id: lease.runId,
    fence: lease.fence,
    owner: lease.owner,
    status: outcome.status,
  };
  if (outcome.error !== undefined && outcome.error !== null) input.error = outcome.error;
  const result = await finish(input);
  if (typeof result !== 'boolean') throw result.error;
  return result;
}

/** Hands the run back unfinished (graceful shutdown): queued again, lease free, fence kept. */
export async function releaseRun(db: Db, lease: Lease): Promise<boolean> {
  const rows = await db
    .update(runs)
    .set({ status: 'queued', leaseOwner: null, leaseExpiresAt: null })
    .where(and(eq(runs.id, lease.runId), eq(runs.fence, lease.fence), inArray(runs.status, ACTIVE)))
    .returning({ id: runs.id });
  return rows.length === 1;
}

/**
 * Runs Postgres says should be executing but nobody holds (queued, or running with an expired lease),
 * leaving out those enqueued after `enqueuedBefore`; oldest first. The reconciler re-enqueues these.
 */
export async function staleRuns(db: Db, options: { enqueuedBefore: Date; limit: number }): Promise<string[]> {
  const rows = await staleRunsQuery(db, options);
  return rows.map((r) => r.id);
}

/** The query of staleRuns (exported so a test can check its plan). */
export function staleRunsQuery(db: Db, options: { enqueuedBefore: Date; limit: number }) {
  return db
    .select({ id: runs.id })
    .from(runs)
    .where(
      and(
        // Implied by the status; stated so the planner uses the runs_unfinished index.
        isNull(runs.finishedAt),
        inArray(runs.status, ACTIVE),
        leaseFree(),
        or(isNull(runs.enqueuedAt), lt(runs.enqueuedAt, options.enqueuedBefore)),
      ),
    )
    .orderBy(asc(runs.createdAt), asc(runs.id))
    .limit(options.limit);
}

/** Flags a queued or running run for cancellation; false when it is already finished (or unknown). */
export async function requestCancel(db: Db, runId: string): Promise<boolean> {
  const rows = await db
    .update(runs)
    .set({ cancelRequested: true })
    .where(and(eq(runs.id, runId), inArray(runs.status, ACTIVE)))
    .returning({ id: runs.id });
  return rows.length === 1;
}

export async function isCancelRequested(db: Db, runId: string): Promise<boolean> {
  const [row] = await db
    .select({ cancelRequested: runs.cancelRequested })
    .from(runs)
    .where(eq(runs.id, runId));
  return row?.cancelRequested ?? false;
}
