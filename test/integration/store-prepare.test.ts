import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/store/db.ts';
import { getRun } from '../../src/store/runs.ts';
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
