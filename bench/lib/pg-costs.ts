/**
 * What one database write costs on this machine, statement shape by statement shape, so the chain
 * figures can be explained: a bare round trip, a durable commit, Baton's task write exactly as the
 * store sends it (prepared, like every parameterized statement of the store), and a fenced write
 * by hand: in a transaction, unprepared and prepared, and as one prepared statement.
 */
import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import type { TaskStatusEvent } from '../../src/engine/events.ts';
import type { Db } from '../../src/store/db.ts';
import { preparing } from '../../src/store/db.ts';
import { claimRun, createRun } from '../../src/store/runs.ts';
import * as schema from '../../src/store/schema.ts';
import { recordTaskEvent } from '../../src/store/task-runs.ts';
import { upsertVersion } from '../../src/store/versions.ts';
import type { Workflow } from '../../src/workflow/types.ts';
import { median } from './stats.ts';

export interface WriteCost {
  what: string;
  /** Median µs per call. */
  us: number;
  roundTrips: string;
}

const FENCE_SQL = 'select fence, lease_owner from runs where id = $1 for share';
const INSERT_SQL = `insert into task_runs (run_id, task_id, attempt, action, status, input, started_at)
  values ($1, $2, 1, 'transform', 'running', $3, now())
  on conflict (run_id, task_id, attempt) do update set status = excluded.status, input = excluded.input`;
const ONE_STATEMENT_SQL = `with lease as (
    select 1 from runs where id = $1 and fence = $4 and lease_owner = $5 for share)
  insert into task_runs (run_id, task_id, attempt, action, status, input, started_at)
  select $1, $2, 1, 'transform', 'running', $3, now() from lease
  on conflict (run_id, task_id, attempt) do update set status = excluded.status, input = excluded.input
  returning id`;

/** Times each shape `n` times (after a warm-up) on one connection to the given database. */
export async function measureWriteCosts(
  databaseUrl: string,
  workflow: Workflow,
  n = 200,
): Promise<WriteCost[]> {
  // Counts what the store sends, to name the round trips of its write whatever shape it has now.
  let statements = 0;
  let _parameterized = 0;
  const client = postgres(databaseUrl, {
    max: 1,
    onnotice: () => {},
    debug: (_connection, _query, parameters) => {
      statements++;
      if (parameters.length > 0) _parameterized++;
    },
  });
  const db = drizzle(preparing(client), { schema }) as unknown as Db;
  try {
    const version = await upsertVersion(db, workflow, {
      text: workflow.source.text,
      path: workflow.source.file,
    });
    const { run } = await createRun(db, {
      workflow: workflow.name,
      versionId: version.id,
      triggerType: 'api',
      trigger: { type: 'api' },
    });
    const claimed = await claimRun(db, run.id, 'bench', 600_000);
    if (!claimed) throw new Error('could not claim the probe run');
    const lease = { runId: run.id, owner: 'bench', fence: claimed.fence };
    const input = JSON.stringify({ template: 1 });
    let key = 0;
    const time = async (fn: () => Promise<unknown>): Promise<number> => {
      for (let i = 0; i < 20; i++) await fn();
      const times: number[] = [];
      for (let i = 0; i < n; i++) {
        const t = performance.now();
        await fn();
        times.push((performance.now() - t) * 1000);
      }
      return median(times);
    };
    const event = (): TaskStatusEvent => {
      const at = new Date().toISOString();
      return {
        type: 'task.status',
        runId: run.id,
        taskId: `p${key++}`,
        action: 'transform',
        status: 'succeeded',
        attempt: 1,
        at,
        startedAt: at,
        durationMs: 0,
        input: { template: 1 },
        output: { result: 1 },
      };
    };
    const rawFenced = (prepare: boolean) => () =>
      client.begin(async (tx) => {
        await tx.unsafe(FENCE_SQL, [run.id], { prepare });
        await tx.unsafe(INSERT_SQL, [run.id, `r${key++}`, input], { prepare });
      });
    const storeWrite = () => recordTaskEvent(db, lease, event(), { outputLimitBytes: 256 * 1024 });
    await storeWrite(); // the first use prepares it
    statements = 0;
    _parameterized = 0;
    await storeWrite();
    // The store's client prepares parameterized statements, so once prepared each is one round trip.
    const storeShape = `${statements} statement(s), ${statements} round trip(s)`;
    return [
      { what: 'select 1 (a bare round trip)', us: await time(() => client`select 1`), roundTrips: '1' },
      {
        what: 'one autocommit INSERT, prepared (round trip + flushed commit)',
        us: await time(() => client.unsafe(INSERT_SQL, [run.id, `a${key++}`, input])),
        roundTrips: '1',
      },
      {
        what: "Baton's task write as the store sends it (recordTaskEvent)",
        us: await time(storeWrite),
        roundTrips: storeShape,
      },
      {
        what: 'fenced write in a transaction (begin, select for share, insert, commit), not prepared',
        us: await time(rawFenced(false)),
        roundTrips: '4 statements, 6 round trips',
      },
      {
        what: '  the same, prepared',
        us: await time(rawFenced(true)),
        roundTrips: '4 statements, 4 round trips',
      },
      {
        what: 'fenced write as one statement (a CTE takes the FOR SHARE lock), prepared',
        us: await time(() =>
          client.unsafe(ONE_STATEMENT_SQL, [run.id, `c${key++}`, input, lease.fence, lease.owner], {
            prepare: true,
          }),
        ),
        roundTrips: '1 statement, 1 round trip',
      },
    ];
  } finally {
    await client.end({ timeout: 5 });
  }
}
