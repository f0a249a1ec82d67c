import { execSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReconciler } from '../../src/worker/reconciler.ts';
import type { Workflow } from '../../src/workflow/types.ts';
import { cluster, loadPipeline, runStatuses } from '../helpers/cluster.ts';
import { createTestStore } from '../helpers/db.ts';
import { waitFor } from '../helpers/wait-for.ts';

let ctx: Awaited<ReturnType<typeof createTestStore>>;
let workflow: Workflow;

function restartPostgres(): void {
  const version = readdirSync('/etc/postgresql')[0];
  if (!version) throw new Error('no Postgres cluster under /etc/postgresql to restart');
  execSync(`pg_ctlcluster --skip-systemctl-redirect ${version} main restart`, { stdio: 'pipe' });
}

beforeAll(async () => {
  ctx = await createTestStore();
  workflow = await loadPipeline();
});
afterAll(async () => {
  await ctx?.cleanup();
});

describe('Postgres restarts under load', () => {
  it('workers reconnect and every run finishes; none is left running without a lease', async () => {
    const c = cluster(ctx.database.url, { leaseMs: 3000 });
    const reconciler = startReconciler({ db: ctx.store.db, queue: c.queue, intervalMs: 500, graceMs: 6000 });
    try {
      c.startWorker(10);
      c.startWorker(10);
      const ids: string[] = [];
      for (let i = 0; i < 40; i++)
        ids.push(await c.start(ctx.store, workflow, { counter: c.counter, pause: '0.3' }));
      await waitFor(async () => (await runStatuses(ctx.store, ids)).some((r) => r.status === 'running'), {
        timeoutMs: 30_000,
      });
      restartPostgres();
      try {
        await waitFor(
          async () => (await runStatuses(ctx.store, ids)).every((r) => r.status === 'succeeded'),
          { timeoutMs: 90_000, intervalMs: 500, message: 'all runs succeeded after the restart' },
        );
      } catch (err) {
        const counts: Record<string, number> = {};
        for (const r of await runStatuses(ctx.store, ids)) counts[r.status] = (counts[r.status] ?? 0) + 1;
        const logs = c.workers.map((w) => w.stderr().split('\n').slice(-15).join('\n')).join('\n---\n');
        throw new Error(
          `${(err as Error).message}; runs by status ${JSON.stringify(counts)}; worker logs:\n${logs}`,
        );
      }
      // The workers rode out the restart instead of dying and being replaced.
      expect(c.workers.map((w) => w.running())).toEqual([true, true]);
      const rows = await runStatuses(ctx.store, ids);
      expect(rows.filter((r) => r.leaseOwner !== null)).toEqual([]);
    } finally {
      await reconciler.stop();
      await c.stop();
    }
  });
});
