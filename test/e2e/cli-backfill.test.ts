import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/store/db.ts';
import { runs } from '../../src/store/schema.ts';
import { runCli, scratchEnv } from '../helpers/cli.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

const HOURLY = `name: hourly
on:
  schedule:
    - cron: "0 * * * *"
      id: top
      input: { size: 1 }
    - cron: "30 2 * * *"
      id: nightly
      timezone: Europe/Berlin
tasks:
  a:
    action: log
    inputs: { message: "for \${trigger.scheduled_at}" }
`;

let database: TestDatabase;
let store: Store;
let env: Record<string, string>;

beforeAll(async () => {
  database = await createTestDatabase();
  store = openStore({ databaseUrl: database.url, dataDir: '/nonexistent', max: 2 });
  env = scratchEnv({ DATABASE_URL: database.url });
  const workflows = join(env.BATON_DATA_DIR as string, 'workflows');
  mkdirSync(workflows);
  writeFileSync(join(workflows, 'hourly.yaml'), HOURLY);
  writeFileSync(join(workflows, 'plain.yaml'), 'name: plain\nsteps:\n  - run: "true"\n');
  env.BATON_WORKFLOWS_DIR = workflows;
});
afterAll(async () => {
  await store?.close();
  await database?.drop();
});

describe('baton backfill', () => {
  it('starts one run per scheduled time in the range, and a second backfill of the range starts nothing', async () => {
    const args = ['backfill', 'hourly', '--from', '2025-03-29T22:00:00Z', '--to', '2025-03-30T03:00:00Z'];
    const first = await runCli(args, env);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    // 6 hourly times, and the nightly entry once
    const lines = first.stdout.trim().split('\n');
    expect(lines.filter((l) => l.startsWith('started '))).toHaveLength(7);
    expect(lines).toContain(
      'hourly: 7 scheduled time(s) from 2025-03-29T22:00:00.000Z to 2025-03-30T03:00:00.000Z: 7 started, 0 already had a run',
    );

    const second = await runCli([...args, '--json'], env);
    expect(second.code).toBe(0);
    const report = JSON.parse(second.stdout);
    expect(report).toMatchObject({ workflow: 'hourly', started: 0, existing: 7 });

    const stored = await store.db.select().from(runs).where(eq(runs.workflow, 'hourly'));
    expect(stored).toHaveLength(7);
    const times = stored.map((r) => (r.trigger as { scheduled_at: string }).scheduled_at).sort();
    expect(times).toEqual([
      '2025-03-29T22:00:00.000Z',
      '2025-03-29T23:00:00.000Z',
      '2025-03-30T00:00:00.000Z',
      '2025-03-30T01:00:00.000Z',
      '2025-03-30T01:00:00.000Z', // 02:30 Berlin does not exist that night: croner runs it at 03:00 CEST
      '2025-03-30T02:00:00.000Z',
      '2025-03-30T03:00:00.000Z',
    ]);
    const top = stored.find((r) => (r.trigger as { schedule: string }).schedule === 'top');
    expect(top?.trigger).toMatchObject({ type: 'schedule', backfill: true, inputs: { size: 1 } });
    expect(top?.idempotencyKey).toMatch(/^schedule:hourly:top:2025-/);

    // --entry narrows it to one entry; a wider range overlapping the first starts only the new times
    const wider = await runCli(
      [
        'backfill',
        'hourly',
        '--entry',
        'top',
        '--from',
        '2025-03-30T03:00:00Z',
        '--to',
        '2025-03-30T05:00:00Z',
      ],
      env,
    );
    expect(wider.code).toBe(0);
    expect(wider.stdout).toContain('3 scheduled time(s)');
    expect(wider.stdout).toContain('2 started, 1 already had a run');
  }, 30_000);

  it('refuses bad ranges with exit 2 and a clear message, starting nothing', async () => {
    const cases: [string[], string][] = [
      [
        ['--from', '2025-01-02', '--to', '2025-01-01'],
        '--from (2025-01-02T00:00:00.000Z) is after --to (2025-01-01T00:00:00.000Z)',
      ],
      [['--from', 'yesterday', '--to', '2025-01-01'], '--from "yesterday" is not an ISO date or time'],
      [['--from', '2025-02-30', '--to', '2025-03-01'], '--from "2025-02-30" is not a real date'],
      [['--from', '2025-01-01'], 'baton backfill needs --from and --to'],
      [
        ['--entry', 'nope', '--from', '2025-01-01', '--to', '2025-01-02'],
        'has no schedule entry "nope" (entries: top, nightly)',
      ],
      [['--from', '2000-01-01', '--to', '2025-01-01'], 'the range holds more than 10000 scheduled times'],
    ];
    for (const [flags, message] of cases) {
      const r = await runCli(['backfill', 'hourly', ...flags], env);
      expect(r.code, flags.join(' ')).toBe(2);
      expect(r.stderr).toContain(message);
    }
    const plain = await runCli(['backfill', 'plain', '--from', '2025-01-01', '--to', '2025-01-02'], env);
    expect(plain.code).toBe(2);
    expect(plain.stderr).toContain('workflow "plain" has no on.schedule to backfill');
    expect(await store.db.select().from(runs).where(eq(runs.workflow, 'plain'))).toEqual([]);
  }, 60_000);
});
