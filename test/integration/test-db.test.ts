import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runs } from '../../src/store/schema.ts';
import { createTestStore } from '../helpers/db.ts';

describe('test database helper', () => {
  let ctx: Awaited<ReturnType<typeof createTestStore>>;
  beforeAll(async () => {
    ctx = await createTestStore();
  });
  afterAll(async () => {
    await ctx?.cleanup();
  });

  it('gives each test file a migrated database of its own', async () => {
    expect(ctx.database.name).toMatch(/^baton_t_[0-9a-f]{12}$/);
    expect(await ctx.store.db.select().from(runs)).toEqual([]);
  });
});
