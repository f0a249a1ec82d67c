import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { asc, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/db.ts';
import { pollers, pollSeen, type RunRow, runs } from '../../src/store/schema.ts';
import { createTestStore } from '../helpers/db.ts';
import { json, startServer } from '../helpers/http-server.ts';
import { instanceFactory } from '../helpers/instances.ts';
import { waitFor } from '../helpers/wait-for.ts';

let ctx: Awaited<ReturnType<typeof createTestStore>>;
let store: Store;

beforeAll(async () => {
  ctx = await createTestStore();
  store = ctx.store;
});
afterAll(async () => {
  await ctx?.cleanup();
});

const runsOf = (workflow: string): Promise<RunRow[]> =>
  store.db.select().from(runs).where(eq(runs.workflow, workflow)).orderBy(asc(runs.createdAt), asc(runs.id));
const itemIds = async (workflow: string) =>
  (await runsOf(workflow)).map((r) => (r.trigger as { item: { id: string } }).item.id);
const pollerOf = async (workflow: string) =>
  (await store.db.select().from(pollers).where(eq(pollers.workflow, workflow)))[0];

/** A feed whose list the test grows; counts the polls it answered. */
async function feed(initial: string[]) {
  const items = initial.map((id) => ({ id, title: `item ${id}` }));
  let failing = false;
  const times: number[] = [];
  const server = await startServer((_req, res) => {
    times.push(Date.now());
    if (failing) return json(res, 500, { error: 'feed is down' });
    json(res, 200, { items });
  });
  return {
    url: server.url,
    polls: () => server.requests.length,
    firstPollAt: () => times[0],
    add: (...ids: string[]) => items.push(...ids.map((id) => ({ id, title: `item ${id}` }))),
    fail: (on: boolean) => {
      failing = on;
    },
    close: server.close,
  };
}

const poller = (name: string, url: string, extra = '') => `name: ${name}
on:
  poll:
    action: http.request
    inputs: { url: "${url}/items" }
    interval: 300ms
    items: output.body.items
${extra}
steps:
  - action: log
    inputs: { message: "new item \${trigger.item.id}: \${trigger.item.title}" }
`;

describe('pollers (Postgres)', () => {
  it('fire nothing on the first poll, then once per new item in order, across a restart and with two instances', async () => {
    const source = await feed(['a', 'b', 'c']);
    const f = instanceFactory({ databaseUrl: ctx.database.url, env: { BATON_POLL_TICK: '200ms' } });
    try {
      f.write('feed.yaml', poller('feed', source.url));
      const one = await f.start();
      // the first poll records a, b, c and starts nothing
      await waitFor(async () => (await pollerOf('feed'))?.primed, { timeoutMs: 10_000 });
      const seen = await store.db.select().from(pollSeen).where(eq(pollSeen.workflow, 'feed'));
      expect(seen.map((s) => s.key).sort()).toEqual(['a', 'b', 'c']);
      expect(await runsOf('feed')).toEqual([]);

      source.add('d', 'e');
      await waitFor(async () => (await itemIds('feed')).length === 2, { timeoutMs: 10_000 });
      expect(await itemIds('feed')).toEqual(['d', 'e']); // in the order the feed gives them

      // restart: the new instance knows what was seen; the lease was handed back on stop
      await f.stop(one);
      source.add('f');
      const two = await f.start();
      const three = await f.start();
      await waitFor(async () => (await itemIds('feed')).length === 3, { timeoutMs: 10_000 });
      const pollsBefore = source.polls();
      source.add('g', 'h');
      await waitFor(async () => (await itemIds('feed')).length === 5, { timeoutMs: 10_000 });
      // a few more polls with both instances up: one of them holds the lease all along, nothing fires twice
      const owners = new Set<string | null>();
      await waitFor(
        async () => {
          owners.add((await pollerOf('feed'))?.leaseOwner ?? null);
          return source.polls() >= pollsBefore + 6;
        },
        { timeoutMs: 10_000, intervalMs: 100 },
      );
      expect(owners.size).toBe(1);
      expect([...owners][0]).toMatch(/^poller-/);
      await Promise.all([f.stop(two), f.stop(three)]);

      const ids = await itemIds('feed');
      expect(ids).toEqual(['d', 'e', 'f', 'g', 'h']);
      for (const run of await runsOf('feed')) {
        expect(run.triggerType).toBe('poll');
        expect(run.idempotencyKey).toBe(`poll:${(run.trigger as { item: { id: string } }).item.id}`);
      }
      // both instances stopped cleanly: the lease was handed back, nothing failed
      const state = await pollerOf('feed');
      expect(state).toMatchObject({ primed: true, failures: 0, lastError: null, leaseOwner: null });
    } finally {
      await f.cleanup();
      await source.close();
    }
  }, 60_000);

  it('fire_existing: true starts a run for every item of the first poll', async () => {
    const source = await feed(['x', 'y']);
    const f = instanceFactory({ databaseUrl: ctx.database.url, env: { BATON_POLL_TICK: '200ms' } });
    try {
      f.write('eager.yaml', poller('eager', source.url, '    fire_existing: true'));
      const one = await f.start();
      await waitFor(async () => (await itemIds('eager')).length === 2, { timeoutMs: 10_000 });
      await waitFor(() => source.polls() >= 3, { timeoutMs: 10_000 });
      await f.stop(one);
      expect(await itemIds('eager')).toEqual(['x', 'y']);
    } finally {
      await f.cleanup();
      await source.close();
    }
  }, 30_000);

  it('a failing poll backs off, shows on the poller status, and recovers', async () => {
    const source = await feed(['p']);
    const f = instanceFactory({ databaseUrl: ctx.database.url, env: { BATON_POLL_TICK: '200ms' } });
    try {
      f.write('flaky-feed.yaml', poller('flaky-feed', source.url, '    key: "item.id"'));
      const one = await f.start();
      await waitFor(async () => (await pollerOf('flaky-feed'))?.primed, { timeoutMs: 10_000 });
      source.fail(true);
      const failed = await waitFor(
        async () => {
          const row = await pollerOf('flaky-feed');
          return row && row.failures >= 2 ? row : undefined;
        },
        { timeoutMs: 15_000 },
      );
      expect(failed.lastError).toMatch(/500/);
      // backing off: the next poll is further away than the interval
      expect((failed.nextPollAt as Date).getTime() - (failed.lastPolledAt as Date).getTime()).toBeGreaterThan(
        1000,
      );
      source.fail(false);
      source.add('q');
      await waitFor(async () => (await itemIds('flaky-feed')).length === 1, { timeoutMs: 15_000 });
      await waitFor(async () => (await pollerOf('flaky-feed'))?.failures === 0, { timeoutMs: 5000 });
      await f.stop(one);
      expect(await itemIds('flaky-feed')).toEqual(['q']);
    } finally {
      await f.cleanup();
      await source.close();
    }
  }, 40_000);

  it('the new-releases example, pointed at a local server, announces each new release once', async () => {
    const releases = [{ id: 101, tag_name: 'v1.0.0', html_url: 'https://example.com/v1.0.0' }];
    const server = await startServer((_req, res) => json(res, 200, releases));
    const f = instanceFactory({ databaseUrl: ctx.database.url, env: { BATON_POLL_TICK: '200ms' } });
    try {
      const example = readFileSync(join(import.meta.dirname, '../../workflows/new-releases.yaml'), 'utf8');
      const local = example
        .replace(/url: https:\/\/api\.github\.com\S+/, `url: ${server.url}/releases`)
        .replace('interval: 5m', 'interval: 300ms');
      expect(local).not.toBe(example);
      f.write('new-releases.yaml', local);
      const one = await f.start();
      await waitFor(async () => (await pollerOf('new-releases'))?.primed, { timeoutMs: 10_000 });
      releases.unshift({ id: 102, tag_name: 'v1.1.0', html_url: 'https://example.com/v1.1.0' });
      await waitFor(async () => (await runsOf('new-releases'))[0]?.status === 'succeeded', {
        timeoutMs: 10_000,
      });
      await f.stop(one);
      const [run, ...rest] = await runsOf('new-releases');
      expect(rest).toEqual([]);
      expect(run?.trigger).toMatchObject({ type: 'poll', item: { id: 102, tag_name: 'v1.1.0' } });
    } finally {
      await f.cleanup();
      await server.close();
    }
  }, 30_000);

  it('takes over the lease of an instance that died holding it, once the lease expires', async () => {
    const source = await feed(['m']);
    const f = instanceFactory({ databaseUrl: ctx.database.url, env: { BATON_POLL_TICK: '200ms' } });
    try {
      f.write('orphan.yaml', poller('orphan', source.url));
      // A dead instance's row: primed, lease held for 1.5 s more (database clock), never renewed.
      const rows = await store.db.execute<{ until: Date | string }>(
        sql`insert into pollers (workflow, lease_owner, lease_expires_at, primed)
            values ('orphan', 'poller-dead', now() + interval '1500 milliseconds', true)
            returning lease_expires_at as until`,
      );
      const until = new Date((rows as unknown as { until: Date | string }[])[0]?.until as Date).getTime();
      const one = await f.start();
      await waitFor(() => source.polls() > 0, { timeoutMs: 10_000 });
      // nobody polled while the dead instance's lease was still valid
      expect(source.firstPollAt()).toBeGreaterThanOrEqual(until);
      // primed by the dead instance, so 'm' is new to this poller and fires
      await waitFor(async () => (await itemIds('orphan')).length === 1, { timeoutMs: 10_000 });
      expect((await pollerOf('orphan'))?.leaseOwner).toMatch(/^poller-(?!dead)/);
      await f.stop(one);
    } finally {
      await f.cleanup();
      await source.close();
    }
  }, 30_000);
});
