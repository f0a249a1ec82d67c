import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/db.ts';
import { runs as runsTable } from '../../src/store/schema.ts';
import { type CliProcess, startCli } from '../helpers/cli.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { waitFor } from '../helpers/wait-for.ts';

const flow = (cron: string) => `on:
  schedule:
    - cron: "${cron}"
      id: beat
steps:
  - action: log
    inputs: { message: "beat \${trigger.scheduled_at}" }
`;

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.drop();
});

interface Listed {
  runs: { trigger_type: string }[];
}

describe('two baton serve processes on one Postgres', () => {
  it('fire a per-second schedule once per second, follow a cron edit, and stop cleanly on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'baton-serve-schedule-'));
    const workflows = join(dir, 'workflows');
    mkdirSync(workflows);
    writeFileSync(join(workflows, 'beat.yaml'), flow('* * * * * *'));
    const env = {
      DATABASE_URL: database.url,
      BATON_WORKFLOWS_DIR: workflows,
      BATON_DATA_DIR: dir,
      PORT: '0',
      BATON_LOG_LEVEL: 'warn',
    };
    const procs: CliProcess[] = [startCli(['serve'], env), startCli(['serve'], env)];
    try {
      const urls = await Promise.all(
        procs.map((p) =>
          waitFor(() => /Baton on (http:\/\/\S+)/.exec(p.stderr())?.[1], { timeoutMs: 20_000 }),
        ),
      );
      const url = urls[0] as string;
      const list = async () =>
        ((await (await fetch(`${url}/api/runs?workflow=beat&limit=100`)).json()) as Listed).runs;
      await waitFor(async () => (await list()).length >= 4, { timeoutMs: 20_000, intervalMs: 200 });

      // Edit the cron: the list shows the new next times (hot reload), and the per-second runs stop.
      writeFileSync(join(workflows, 'beat.yaml'), flow('0 0 1 1 *'));
      const next = await waitFor(
        async () => {
          const body = (await (await fetch(`${urls[1]}/api/workflows/beat`)).json()) as {
            triggers: { schedule: { cron: string; next_runs: string[] }[] };
          };
          const entry = body.triggers.schedule[0];
          return entry?.cron === '0 0 1 1 *' ? entry.next_runs : undefined;
        },
        { timeoutMs: 10_000 },
      );
      expect(next.every((t) => t.endsWith('-01-01T00:00:00.000Z'))).toBe(true);

      for (const p of procs) p.signal('SIGTERM');
      const results = await Promise.all(procs.map((p) => p.done));
      for (const r of results) expect(r.code, r.stderr).toBe(0);

      // Both processes are gone: read the database directly.
      const store = openStore({ databaseUrl: database.url, dataDir: dir, max: 1 });
      const runs = await store.db
        .select()
        .from(runsTable)
        .where(eq(runsTable.workflow, 'beat'))
        .finally(() => store.close());
      const times = runs.map((r) => (r.trigger as { scheduled_at: string }).scheduled_at);
      expect(new Set(times).size).toBe(times.length); // two schedulers, one run per second
      expect(runs.every((r) => r.triggerType === 'schedule')).toBe(true);
    } finally {
      for (const p of procs) if (p.running()) p.signal('SIGKILL');
      await Promise.all(procs.map((p) => p.done));
    }
  }, 60_000);
});
