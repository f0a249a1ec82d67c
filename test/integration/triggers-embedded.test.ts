import { asc, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { runs } from '../../src/store/schema.ts';
import { json, startServer } from '../helpers/http-server.ts';
import { instanceFactory } from '../helpers/instances.ts';
import { waitFor } from '../helpers/wait-for.ts';

// No DATABASE_URL: the same scheduler and poller on embedded PGlite and the in-process queue.
describe('schedules and polls in embedded mode (PGlite)', () => {
  it('fires a per-second schedule once per second and a poller once per new item, through a restart', async () => {
    const items = [{ id: 1 }];
    const server = await startServer((_req, res) => json(res, 200, items));
    const f = instanceFactory({ env: { BATON_POLL_TICK: '200ms' } });
    try {
      f.write(
        'beat.yaml',
        `name: beat
on:
  schedule: "* * * * * *"
  poll:
    action: http.request
    inputs: { url: "${server.url}/" }
    interval: 300ms
    items: output.body
steps:
  - action: log
    inputs: { message: "\${trigger.type}" }
`,
      );
      let runtime = await f.start();
      const list = () =>
        runtime.db.select().from(runs).where(eq(runs.workflow, 'beat')).orderBy(asc(runs.createdAt));
      await waitFor(async () => (await list()).filter((r) => r.triggerType === 'schedule').length >= 3, {
        timeoutMs: 15_000,
        intervalMs: 100,
      });
      items.push({ id: 2 });
      await waitFor(async () => (await list()).some((r) => r.triggerType === 'poll'), { timeoutMs: 10_000 });
      await f.stop(runtime);

      runtime = await f.start();
      items.push({ id: 3 });
      await waitFor(async () => (await list()).filter((r) => r.triggerType === 'poll').length >= 2, {
        timeoutMs: 10_000,
      });
      await runtime.scheduler?.stop(); // nothing new while we read
      await runtime.pollers?.stop();
      const all = await list();
      await f.stop(runtime);

      const polled = all
        .filter((r) => r.triggerType === 'poll')
        .map((r) => (r.trigger as { item: unknown }).item);
      expect(polled).toEqual([{ id: 2 }, { id: 3 }]); // item 1 existed before the first poll
      const times = all
        .filter((r) => r.triggerType === 'schedule')
        .map((r) => (r.trigger as { scheduled_at: string }).scheduled_at);
      expect(new Set(times).size).toBe(times.length);
      for (const t of times) expect(t).toMatch(/:\d\d\.000Z$/);
    } finally {
      await f.cleanup();
      await server.close();
    }
  }, 60_000);
});
