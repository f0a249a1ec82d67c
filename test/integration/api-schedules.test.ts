import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRun } from '../../src/engine/start-run.ts';
import { pollers, runs } from '../../src/store/schema.ts';
import { startScheduler } from '../../src/triggers/scheduler.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { type ApiContext, createApiContext } from './api-context.ts';

const scheduled = (cron: string, name = 'nightly') => `name: ${name}
on:
  schedule:
    - cron: "${cron}"
      id: main
      timezone: Europe/Berlin
    - cron: "0 12 * * *"
      id: noon
      input: { who: noon }
tasks:
  a:
    action: test.step
    inputs: { label: a }
`;

let ctx: ApiContext;
beforeAll(async () => {
  ctx = await createApiContext();
  ctx.registry.setFile('nightly.yaml', scheduled('30 2 * * *'));
  ctx.registry.setFile('ops/every-second.yaml', scheduled('* * * * * *', 'ops/every-second'));
  ctx.registry.setFile(
    'plain.yaml',
    'name: plain\ntasks:\n  a:\n    action: test.step\n    inputs: { label: a }\n',
  );
});
afterAll(() => ctx?.cleanup());

const berlin = (iso: string) =>
  new Date(iso).toLocaleString('en-GB', { timeZone: 'Europe/Berlin', hour: '2-digit', minute: '2-digit' });
const summaryOf = async (name: string) =>
  (await ctx.call('GET', '/api/workflows')).body.workflows.find((w: { name: string }) => w.name === name);

describe('schedules in the workflow list', () => {
  it('shows each entry with its next 3 times, and a reload that changes the cron moves them', async () => {
    const before = await summaryOf('nightly');
    const [main, noon] = before.triggers.schedule;
    expect(main).toMatchObject({
      id: 'main',
      cron: '30 2 * * *',
      timezone: 'Europe/Berlin',
      overlap: 'skip',
    });
    expect(main.next_runs).toHaveLength(3);
    for (const t of main.next_runs) expect(berlin(t)).toBe('02:30');
    expect(noon.timezone).toBe('UTC');
    expect(noon.next_runs.map((t: string) => t.slice(11))).toEqual([
      '12:00:00.000Z',
      '12:00:00.000Z',
      '12:00:00.000Z',
    ]);
    expect(before.next_run_at).toBe([main.next_run_at, noon.next_run_at].sort()[0]);

    ctx.registry.setFile('nightly.yaml', scheduled('45 18 * * 1-5'));
    const after = await summaryOf('nightly');
    expect(after.triggers.schedule[0].cron).toBe('45 18 * * 1-5');
    for (const t of after.triggers.schedule[0].next_runs) expect(berlin(t)).toBe('18:45');
    expect(after.triggers.schedule[0].next_runs).not.toEqual(main.next_runs);
  });

  it('shows the poller status when a poller has run', async () => {
    ctx.registry.setFile(
      'feed.yaml',
      `name: feed
on:
  poll:
    action: http.request
    inputs: { url: "https://example.com/items" }
    interval: 1m
    items: output.body.items
tasks:
  a:
    action: test.step
    inputs: { label: "\${trigger.item.id}" }
`,
    );
    expect((await summaryOf('feed')).triggers.poll).toEqual({
      action: 'http.request',
      interval_ms: 60_000,
      items: 'output.body.items',
      key: 'item.id',
      fire_existing: false,
      status: null,
    });
    await ctx.store.db.insert(pollers).values({
      workflow: 'feed',
      primed: true,
      failures: 3,
      lastError: 'http.request: 503 Service Unavailable',
      lastPolledAt: new Date('2025-01-01T10:00:00Z'),
      nextPollAt: new Date('2025-01-01T10:08:00Z'),
    });
    const feed = await summaryOf('feed');
    expect(feed.triggers.types).toEqual(['poll']);
    expect(feed.triggers.poll.status).toEqual({
      primed: true,
      last_polled_at: '2025-01-01T10:00:00.000Z',
      last_success_at: null,
      next_poll_at: '2025-01-01T10:08:00.000Z',
      failures: 3,
      last_error: 'http.request: 503 Service Unavailable',
      last_new_items: 0,
      leased: false,
    });
    const detail = await ctx.call('GET', '/api/workflows/feed');
    expect(detail.body.triggers.poll.status.failures).toBe(3);
  });
});

describe('POST /api/workflows/{name}/schedules/pause|resume', () => {
  it('pauses without a file change: the scheduler starts nothing and the list shows no next times; resume starts again', async () => {
    const name = 'ops/every-second';
    const scheduler = startScheduler({
      db: ctx.store.db,
      start: (request) => startRun({ db: ctx.store.db, queue: ctx.queue }, request),
      workflows: () => ctx.registry.workflows().values(),
      tickMs: 200,
      graceMs: 2000,
    });
    const count = async () => (await ctx.store.db.select().from(runs).where(eq(runs.workflow, name))).length;
    // No worker here: settle the runs, so overlap: skip (the default) does not hold the next times back.
    const finishAll = () =>
      ctx.store.db.update(runs).set({ status: 'succeeded' }).where(eq(runs.workflow, name));
    try {
      await waitFor(async () => (await count()) >= 1, { timeoutMs: 5000 });
      await finishAll();
      const paused = await ctx.call('POST', `/api/workflows/${name}/schedules/pause`);
      expect(paused.status).toBe(200);
      expect(paused.body).toEqual({ workflow: name, paused: true, changed: true });
      expect((await ctx.call('POST', '/api/workflows/ops%2Fevery-second/schedules/pause')).body.changed).toBe(
        false,
      );

      const summary = await summaryOf(name);
      expect(summary.triggers.schedule_paused).toBe(true);
      expect(summary.triggers.schedule[0].next_runs).toEqual([]);
      expect(summary.next_run_at).toBeNull();

      // let a tick that was already under way finish, then watch 2 s of schedule go by
      await scheduler.tick();
      await finishAll();
      const atPause = await count();
      const until = Date.now() + 2000;
      while (Date.now() < until) await scheduler.tick();
      expect(await count()).toBe(atPause);

      const pausedIds = new Set(
        (await ctx.store.db.select().from(runs).where(eq(runs.workflow, name))).map((r) => r.id),
      );
      const resumedAt = Date.now();
      const resumed = await ctx.call('POST', `/api/workflows/${name}/schedules/resume`);
      expect(resumed.body).toEqual({ workflow: name, paused: false, changed: true });
      await waitFor(async () => (await count()) > atPause, { timeoutMs: 5000 });
      // The paused stretch is not caught up, not even the last seconds the 2 s grace would allow.
      const fresh = (await ctx.store.db.select().from(runs).where(eq(runs.workflow, name))).filter(
        (r) => !pausedIds.has(r.id),
      );
      for (const run of fresh) {
        expect(Date.parse((run.trigger as { scheduled_at: string }).scheduled_at)).toBeGreaterThan(
          resumedAt - 100,
        );
      }
    } finally {
      await scheduler.stop();
    }
  });

  it('are in the OpenAPI document', async () => {
    const doc = (await ctx.call('GET', '/api/openapi.json')).body;
    expect(doc.paths['/api/workflows/{name}/schedules/pause'].post.operationId).toBe('pauseSchedules');
    expect(doc.paths['/api/workflows/{name}/schedules/resume'].post.operationId).toBe('resumeSchedules');
    expect(doc.components.schemas.PollStatus.properties).toHaveProperty('last_error');
  });

  it('404s an unknown workflow and 409s one without schedules', async () => {
    const unknown = await ctx.call('POST', '/api/workflows/nope/schedules/pause');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatchObject({ code: 'not_found', message: 'no workflow named "nope"' });
    const plain = await ctx.call('POST', '/api/workflows/plain/schedules/resume');
    expect(plain.status).toBe(409);
    expect(plain.body.error.message).toBe('workflow "plain" has no on.schedule to resume');
  });
});
