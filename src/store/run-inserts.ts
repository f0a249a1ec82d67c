import { and, eq, or, sql } from 'drizzle-orm';
import { batcher } from '../util/batcher.ts';
import { uuidv7 } from '../util/ids.ts';
import { type Db, hotDb, rowsOf } from './db.ts';
import { type NewRun, runValues } from './runs.ts';
import { type RunRow, runs } from './schema.ts';
import { renderedOnce } from './statements.ts';

/** Group-committed run inserts: what startRun uses to commit runs under load. */

type Inserted = { run: RunRow; created: boolean } | { error: unknown };

const insertRunsSql = renderedOnce(
  (json: string) => sql`
    insert into ${runs} (id, workflow, version_id, status, trigger_type, trigger, idempotency_key,
                         parent_run_id, enqueued_at)
    select x.id, x.workflow, x.version_id, 'queued', x.trigger_type, x.trigger, x.idempotency_key,
           x.parent_run_id, now()
    from rows from (jsonb_to_recordset(${json}::jsonb) as (
      id uuid, workflow text, version_id uuid, trigger_type text, trigger jsonb, idempotency_key text,
      parent_run_id uuid)
    ) with ordinality as x(id, workflow, version_id, trigger_type, trigger, idempotency_key, parent_run_id, n)
    order by x.n
    on conflict (workflow, idempotency_key) where idempotency_key is not null do nothing
    returning id, (extract(epoch from created_at) * 1000)::float8 as created_ms,
              (extract(epoch from enqueued_at) * 1000)::float8 as enqueued_ms`,
);

/**
 * The batch INSERT, as one statement with one parameter (the rows as JSON), so its text is the
 * same for any batch size (prepared once) and building it costs nothing per row. Rows whose
 * idempotency key already exists are skipped. The new rows are completed from what was sent
 * plus the database's timestamps, which is all a fresh run holds.
 */
async function insertRunRows(db: Db, inputs: NewRun[]): Promise<Map<string, RunRow>> {
  const json = JSON.stringify(
    inputs.map((input) => ({
      id: input.id,
      workflow: input.workflow,
      version_id: input.versionId,
      trigger_type: input.triggerType,
      trigger: input.trigger,
      idempotency_key: input.idempotencyKey ?? null,
      parent_run_id: input.parentRunId ?? null,
    })),
  );
  const result = await hotDb(db).execute(insertRunsSql(json));
  const rows = rowsOf<{
    id: string;
    created_ms: number | string;
    enqueued_ms: number | string;
  }>(result);
  const byInput = new Map(inputs.map((input) => [input.id as string, input]));
  const out = new Map<string, RunRow>();
  for (const row of rows) {
    const input = byInput.get(row.id);
    if (!input) continue;
    out.set(row.id, {
      ...runValues(input),
      id: row.id,
      error: null,
      createdAt: new Date(Number(row.created_ms)),
      startedAt: null,
      finishedAt: null,
      enqueuedAt: new Date(Number(row.enqueued_ms)),
      leaseOwner: null,
      leaseExpiresAt: null,
      fence: 0,
      cancelRequested: false,
    });
  }
  return out;
}

/**
 * One INSERT for many runs. A repeated idempotency key (against a stored run, or twice in the batch)
 * inserts nothing and gets the first run back. If the statement fails, each run is inserted alone,
 * so one row Postgres refuses fails only its own caller.
 */
async function insertRuns(db: Db, inputs: NewRun[]): Promise<Inserted[]> {
  try {
    const byId = await insertRunRows(db, inputs);
    const repeated = inputs.filter((input) => !byId.has(input.id as string));
    const firsts = await firstRuns(db, repeated);
    return inputs.map((input) => {
      const run = byId.get(input.id as string);
      if (run) return { run, created: true };
      const first = firsts.get(keyOf(input.workflow, input.idempotencyKey));
      return first
        ? { run: first, created: false }
        : { error: new Error(`run ${input.id} of ${input.workflow} is missing after a batch insert`) };
    });
  } catch (error) {
    if (inputs.length === 1) return [{ error }];
    // Find out which row it was: each alone.
    return Promise.all(inputs.map(async (input) => (await insertRuns(db, [input]))[0] as Inserted));
  }
}

const keyOf = (workflow: string, key: string | null | undefined) => `${workflow}\u0000${key ?? ''}`;

/** The stored runs for the idempotency keys of these inputs (their inserts conflicted). */
async function firstRuns(db: Db, inputs: NewRun[]): Promise<Map<string, RunRow>> {
  const keyed = inputs.filter((input) => input.idempotencyKey !== undefined);
  if (keyed.length === 0) return new Map();
  const rows = await db
    .select()
    .from(runs)
    .where(
      or(
        ...keyed.map((input) =>
          and(eq(runs.workflow, input.workflow), eq(runs.idempotencyKey, input.idempotencyKey as string)),
        ),
      ),
    );
  return new Map(rows.map((row) => [keyOf(row.workflow, row.idempotencyKey), row]));
}

const insertBatchers = new WeakMap<Db, (input: NewRun) => Promise<Inserted>>();

/**
 * createRun, group-committed: triggers arriving while an INSERT is in flight share the next one
 * (a burst of webhooks costs a few statements, not one each). Same results as createRun.
 */
export async function createRunBatched(db: Db, input: NewRun): Promise<{ run: RunRow; created: boolean }> {
  let insert = insertBatchers.get(db);
  if (!insert) {
    insert = batcher((inputs: NewRun[]) => insertRuns(db, inputs), { maxBatch: 500, concurrency: 1 });
    insertBatchers.set(db, insert);
  }
  const result = await insert({ ...input, id: input.id ?? uuidv7() });
  if ('error' in result) throw result.error;
  return result;
}
