import { and, asc, eq, inArray, isNull, lt, ne, or, sql } from 'drizzle-orm';
import { type Db, rowsOf } from './db.ts';
import {
  type PollerRow,
  pollers,
  pollSeen,
  runs,
  scheduleBacklog,
  scheduleCursors,
  schedulePauses,
} from './schema.ts';

/** Queries behind the scheduler and the pollers. Every decision several instances race on is one statement. */

/** The database clock: every instance reads the same time, whatever its own clock says. */
export async function databaseNow(db: Db): Promise<Date> {
  const [row] = rowsOf<{ now: Date | string }>(await db.execute(sql`select clock_timestamp() as now`));
  if (!row) throw new Error('the database did not say what time it is');
  return new Date(row.now);
}

/** Cursors of a workflow's entries; entries seen for the first time start at `now` (no catch-up for them). */
export async function loadCursors(
  db: Db,
  workflow: string,
  entries: readonly string[],
  now: Date,
  /** Entries whose row may not exist yet (the caller remembers the others, saving a write per tick). */
  create: readonly string[] = entries,
): Promise<Map<string, Date>> {
  if (entries.length === 0) return new Map();
  if (create.length > 0) {
    await db
      .insert(scheduleCursors)
      .values(create.map((entry) => ({ workflow, entry, lastAt: now })))
      .onConflictDoNothing();
  }
  const rows = await db
    .select({ entry: scheduleCursors.entry, lastAt: scheduleCursors.lastAt })
    .from(scheduleCursors)
    .where(and(eq(scheduleCursors.workflow, workflow), inArray(scheduleCursors.entry, [...entries])));
  return new Map(rows.map((r) => [r.entry, r.lastAt]));
}

/** Moves the cursor forward only: a slow instance never moves it back. */
export async function advanceCursor(db: Db, workflow: string, entry: string, to: Date): Promise<void> {
  await db
    .update(scheduleCursors)
    .set({
      lastAt: sql`greatest(${scheduleCursors.lastAt}, ${to.toISOString()}::timestamptz)`,
      updatedAt: sql`now()`,
    })
    .where(and(eq(scheduleCursors.workflow, workflow), eq(scheduleCursors.entry, entry)));
}

/** The run of this schedule entry still queued or running, other than the one with `exceptKey`. */
export async function activeScheduleRun(
  db: Db,
  workflow: string,
  entry: string,
  exceptKey?: string,
): Promise<string | undefined> {
  const [row] = await db
    .select({ id: runs.id })
    .from(runs)
    .where(
      and(
        eq(runs.workflow, workflow),
        isNull(runs.finishedAt),
        inArray(runs.status, ['queued', 'running']),
        sql`${runs.trigger}->>'schedule' = ${entry}`,
        ...(exceptKey ? [or(isNull(runs.idempotencyKey), ne(runs.idempotencyKey, exceptKey))] : []),
      ),
    )
    .limit(1);
  return row?.id;
}

export async function addToBacklog(
  db: Db,
  workflow: string,
  entry: string,
  times: { at: Date; catchup: boolean }[],
): Promise<void> {
  if (times.length === 0) return;
  await db
    .insert(scheduleBacklog)
    .values(times.map((t) => ({ workflow, entry, scheduledAt: t.at, catchup: t.catchup })))
    .onConflictDoNothing();
}

export async function oldestInBacklog(
  db: Db,
  workflow: string,
  entry: string,
): Promise<{ at: Date; catchup: boolean } | undefined> {
  const [row] = await db
    .select({ at: scheduleBacklog.scheduledAt, catchup: scheduleBacklog.catchup })
    .from(scheduleBacklog)
    .where(and(eq(scheduleBacklog.workflow, workflow), eq(scheduleBacklog.entry, entry)))
    .orderBy(asc(scheduleBacklog.scheduledAt))
    .limit(1);
  return row;
}

export async function backlogSize(db: Db, workflow: string, entry: string): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(scheduleBacklog)
    .where(and(eq(scheduleBacklog.workflow, workflow), eq(scheduleBacklog.entry, entry)));
  return Number(row?.n ?? 0);
}

export async function removeFromBacklog(db: Db, workflow: string, entry: string, at: Date): Promise<void> {
  await db
    .delete(scheduleBacklog)
    .where(
      and(
        eq(scheduleBacklog.workflow, workflow),
        eq(scheduleBacklog.entry, entry),
        eq(scheduleBacklog.scheduledAt, at),
      ),
    );
}

export async function pausedWorkflows(db: Db): Promise<Map<string, Date>> {
  const rows = await db.select().from(schedulePauses);
  return new Map(rows.map((r) => [r.workflow, r.pausedAt]));
}

/** True when this call paused it (false: it was paused already). */
export async function pauseSchedules(db: Db, workflow: string): Promise<boolean> {
  const rows = await db
    .insert(schedulePauses)
    .values({ workflow })
    .onConflictDoNothing()
    .returning({ workflow: schedulePauses.workflow });
  return rows.length === 1;
}

/**
 * Unpauses; the cursors jump to now so the paused stretch is not caught up. True when it was paused.
 * Times queued for overlap are dropped too: they belong to before the pause.
 */
export async function resumeSchedules(db: Db, workflow: string): Promise<boolean> {
  return db.transaction(async (tx) => {
    const rows = await tx
      .delete(schedulePauses)
      .where(eq(schedulePauses.workflow, workflow))
      .returning({ workflow: schedulePauses.workflow });
    if (rows.length === 0) return false;
    await tx.delete(scheduleBacklog).where(eq(scheduleBacklog.workflow, workflow));
    await tx
      .update(scheduleCursors)
      .set({ lastAt: sql`greatest(${scheduleCursors.lastAt}, now())`, updatedAt: sql`now()` })
      .where(eq(scheduleCursors.workflow, workflow));
    return true;
  });
}

// --- pollers ---

/**
 * Takes or renews the workflow's poller lease in one statement: free, expired or already ours.
 * The row (and so the "first poll" state) is created on first use.
 */
export async function acquirePollLease(
  db: Db,
  workflow: string,
  owner: string,
  leaseMs: number,
): Promise<PollerRow | undefined> {
  const until = sql`now() + (${leaseMs}::double precision * interval '1 millisecond')`;
  const [row] = await db
    .insert(pollers)
    .values({ workflow, leaseOwner: owner, leaseExpiresAt: until })
    .onConflictDoUpdate({
      target: pollers.workflow,
      set: { leaseOwner: owner, leaseExpiresAt: until },
      setWhere: or(
        isNull(pollers.leaseOwner),
        lt(pollers.leaseExpiresAt, sql`now()`),
        eq(pollers.leaseOwner, owner),
      ),
    })
    .returning();
  return row;
}

/** Hands the lease back (shutdown), so another instance polls without waiting for it to expire. */
export async function releasePollLeases(db: Db, owner: string): Promise<void> {
  await db
    .update(pollers)
    .set({ leaseOwner: null, leaseExpiresAt: null })
    .where(eq(pollers.leaseOwner, owner));
}

/** Writes a poll's outcome, only while `owner` still holds the lease. */
export async function recordPoll(
  db: Db,
  workflow: string,
  owner: string,
  outcome: { ok: true; newItems: number; nextInMs: number } | { ok: false; error: string; nextInMs: number },
): Promise<void> {
  const next = sql`now() + (${outcome.nextInMs}::double precision * interval '1 millisecond')`;
  const set = outcome.ok
    ? {
        primed: true,
        failures: 0,
        lastError: null,
        lastPolledAt: sql`now()`,
        lastSuccessAt: sql`now()`,
        lastNewItems: outcome.newItems,
        nextPollAt: next,
      }
    : {
        failures: sql`${pollers.failures} + 1`,
        lastError: outcome.error,
        lastPolledAt: sql`now()`,
        nextPollAt: next,
      };
  await db
    .update(pollers)
    .set(set as never)
    .where(and(eq(pollers.workflow, workflow), eq(pollers.leaseOwner, owner)));
}

export async function pollerStates(db: Db): Promise<Map<string, PollerRow>> {
  const rows = await db.select().from(pollers);
  return new Map(rows.map((r) => [r.workflow, r]));
}

/** The keys among `keys` this workflow's poller has already seen. */
export async function seenKeys(db: Db, workflow: string, keys: readonly string[]): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const found = new Set<string>();
  // Chunks keep the parameter count well under Postgres's limit for a long list.
  for (let i = 0; i < keys.length; i += 1000) {
    const rows = await db
      .select({ key: pollSeen.key })
      .from(pollSeen)
      .where(and(eq(pollSeen.workflow, workflow), inArray(pollSeen.key, keys.slice(i, i + 1000))));
    for (const r of rows) found.add(r.key);
  }
  return found;
}

/** Records keys as seen; returns those that were new to the table (a racing instance may have won some). */
export async function markSeen(db: Db, workflow: string, keys: readonly string[]): Promise<string[]> {
  const added: string[] = [];
  for (let i = 0; i < keys.length; i += 1000) {
    const rows = await db
      .insert(pollSeen)
      .values(keys.slice(i, i + 1000).map((key) => ({ workflow, key })))
      .onConflictDoNothing()
      .returning({ key: pollSeen.key });
    for (const r of rows) added.push(r.key);
  }
  return added;
}
