import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRun } from '../../src/engine/start-run.ts';
import { loadCatalogue } from '../../src/plugins/catalogue.ts';
import { MemoryQueue } from '../../src/queue/memory-queue.ts';
import { openStore, type Store } from '../../src/store/db.ts';
import { getRun } from '../../src/store/runs.ts';
import { listTaskRuns } from '../../src/store/task-runs.ts';
import { Worker } from '../../src/worker/worker.ts';
import type { Workflow } from '../../src/workflow/types.ts';
import { loadPipeline } from '../helpers/cluster.ts';
import { waitFor } from '../helpers/wait-for.ts';

// The same functional checks as the Postgres + Redis cluster, on PGlite + the in-process queue.
describe('embedded mode (PGlite + in-process queue)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'baton-embedded-'));
  let store: Store;
  let queue: MemoryQueue;
  let worker: Worker;
  let workflow: Workflow;

  beforeAll(async () => {
    store = openStore({ dataDir: dir });
    await store.migrate();
    queue = new MemoryQueue();
    const catalogue = await loadCatalogue();
    worker = new Worker({
      db: store.db,
      queue,
      actions: () => catalogue.actions,
      env: { filesDir: join(dir, 'files'), httpAllow: [], outputLimitBytes: 64 * 1024 },
      secrets: () => ({}),
      concurrency: 5,
      leaseMs: 2000,
      blockMs: 200,
    });
    worker.start();
    workflow = await loadPipeline();
  });

  afterAll(async () => {
    await worker?.stop(2000);
    await queue?.close();
    await store?.close();
  });

  it('runs 20 pipelines, each task exactly once', async () => {
    const counter = join(dir, 'counter.log');
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      ids.push(
        (await startRun({ db: store.db, queue }, { workflow, trigger: { type: 'api', inputs: { counter } } }))
          .run.id,
      );
    }
    await waitFor(
      async () =>
        (await Promise.all(ids.map((id) => getRun(store.db, id)))).every((r) => r?.status === 'succeeded'),
      {
        timeoutMs: 30_000,
      },
    );
    const lines = readFileSync(counter, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(100);
    expect(new Set(lines).size).toBe(100);
    for (const id of ids)
      expect((await listTaskRuns(store.db, id)).map((r) => r.status)).toEqual(Array(5).fill('succeeded'));
  });

  it('gives one run for one idempotency key, however often it is used at once', async () => {
    const counter = join(dir, 'idem.log');
    const results = await Promise.all(
      Array.from({ length: 50 }, () =>
        startRun(
          { db: store.db, queue },
          { workflow, trigger: { type: 'api', inputs: { counter } }, idempotencyKey: 'k-1' },
        ),
      ),
    );
    expect(new Set(results.map((r) => r.run.id)).size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
  });

  it('rejects inputs that do not match the declared ones, storing nothing', async () => {
    await expect(
      startRun({ db: store.db, queue }, { workflow, trigger: { type: 'api', inputs: { counter: 5 } } }),
    ).rejects.toThrow('input "counter" must be a string');
  });
});
