import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/db.ts';
import { runs } from '../../src/store/schema.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

describe('migrations', () => {
  let database: TestDatabase | undefined;
  afterAll(async () => {
    await database?.drop();
  });

  it('can be applied by several processes at once to an empty database', async () => {
    database = await createTestDatabase({ empty: true });
    const stores = Array.from({ length: 4 }, () =>
      openStore({ databaseUrl: database?.url, dataDir: '/nonexistent', max: 2 }),
    );
    try {
      await Promise.all(stores.map((s) => s.migrate()));
      expect(await stores[0]?.db.select().from(runs)).toEqual([]);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });
});
