import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { hotDb, openStore, type Store } from '../../src/store/db.ts';
import { claimStatement, finishStatement, getRun, renewStatement } from '../../src/store/runs.ts';
import { taskRowsStatement } from '../../src/store/task-runs.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.drop();
});

/** Runs a parameterized query, then reads what this (single) connection holds prepared and its plan mode. */
async function probe(store: Store) {
  expect(await getRun(store.db, '00000000-0000-7000-8000-000000000000')).toBeUndefined();
  const result = await store.db.execute(
    sql`select (select count(*)::int from pg_prepared_statements where statement like '%"runs"%') as prepared,
               current_setting('plan_cache_mode') as mode`,
  );
  return (result as unknown as { prepared: number; mode: string }[])[0];
}

it('prepares parameterized statements and plans each execution for its parameters', async () => {
  const store = openStore({ databaseUrl: database.url, dataDir: '/nonexistent', max: 1 });
  try {
    expect(await probe(store)).toEqual({ prepared: 1, mode: 'force_custom_plan' });
  } finally {
    await store.close();
  }
});

it('with prepare off (BATON_DB_PREPARE=false) prepares nothing and leaves the plan mode alone', async () => {
  const store = openStore({ databaseUrl: database.url, dataDir: '/nonexistent', max: 1, prepare: false });
  try {
    expect(await probe(store)).toEqual({ prepared: 0, mode: 'auto' });
  } finally {
    await store.close();
  }
});

it("the hot path's batch statements keep generic plans that find rows by key even on an empty table", async () => {
  const store = openStore({ databaseUrl: database.url, dataDir: '/nonexistent', max: 1 });
  try {
    const hot = hotDb(store.db);
    expect(hot).not.toBe(store.db);
    const settings = await hot.execute(
      sql`select current_setting('plan_cache_mode') as mode, current_setting('enable_seqscan') as seqscan`,
    );
    expect((settings as unknown as { mode: string; seqscan: string }[])[0]).toEqual({
      mode: 'force_generic_plan',
      seqscan: 'off',
    });
    // A fresh database: a planner free to choose would scan these tiny tables sequentially, and a
    // generic plan keeps that choice for the connection's life, however large `runs` grows.
    const lease = { runId: '00000000-0000-7000-8000-000000000001', owner: 'w', fence: 1 };
    const row = { run_id: lease.runId, fence: 1, owner: 'w', task_id: 'a', attempt: 1 };
    const statements = {
      'task results': taskRowsStatement([{ ...row, action: 'work', status: 'succeeded' }]),
      'run finishes': finishStatement([{ ...row, status: 'succeeded' }]),
      heartbeat: renewStatement('w', [lease], 30_000),
      claims: claimStatement('w', [lease.runId], 30_000),
    };
    for (const [what, statement] of Object.entries(statements)) {
      const result = await hot.execute(sql`explain ${statement}`);
      const plan = (result as unknown as Record<string, string>[]).map((r) => Object.values(r)[0]).join('\n');
      expect(plan, `${what}:\n${plan}`).toMatch(/Index/);
      expect(plan, `${what}:\n${plan}`).not.toMatch(/Seq Scan/);
    }
  } finally {
    await store.close();
  }
});

it('with prepare off there is no separate pool for the hot path', async () => {
  const store = openStore({ databaseUrl: database.url, dataDir: '/nonexistent', max: 1, prepare: false });
  try {
    expect(hotDb(store.db)).toBe(store.db);
  } finally {
    await store.close();
  }
});
