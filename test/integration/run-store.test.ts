import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runs, taskRuns } from '../../src/store/schema.ts';
import { runCli, scratchEnv } from '../helpers/cli.ts';
import { createTestStore } from '../helpers/db.ts';

let ctx: Awaited<ReturnType<typeof createTestStore>>;
beforeAll(async () => {
  ctx = await createTestStore();
});
afterAll(async () => {
  await ctx?.cleanup();
});

describe('baton run with a database configured', () => {
  it('records the run and its task attempts; --no-store skips that', async () => {
    const env = scratchEnv({ DATABASE_URL: ctx.database.url });
    const r = await runCli(['run', 'hello', '--input', '{"who": "Grace"}'], env);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const id = /\(run ([0-9a-f-]{36})\)/.exec(r.stdout)?.[1] as string;
    const [row] = await ctx.store.db.select().from(runs).where(eq(runs.id, id));
    expect(row).toMatchObject({ workflow: 'hello', status: 'succeeded', triggerType: 'cli' });
    const tasks = await ctx.store.db.select().from(taskRuns).where(eq(taskRuns.runId, id));
    expect(tasks.map((t) => [t.taskId, t.status]).sort()).toEqual([
      ['done', 'succeeded'],
      ['greet', 'succeeded'],
      ['shout', 'succeeded'],
    ]);

    const before = (await ctx.store.db.select().from(runs)).length;
    const skipped = await runCli(['run', 'hello', '--no-store'], env);
    expect(skipped.code).toBe(0);
    expect(await ctx.store.db.select().from(runs)).toHaveLength(before);
  });
});
