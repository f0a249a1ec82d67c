import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineAction } from '../../../src/plugins/define-action.ts';
import { backfillPlan, parseBackfillTime } from '../../../src/triggers/backfill.ts';
import { pollItems } from '../../../src/triggers/poll-once.ts';
import { pollBackoff } from '../../../src/triggers/poller.ts';
import { makeWorkflow } from '../../helpers/workflow.ts';

const feedAction = (answer: unknown) =>
  defineAction({
    name: 'test.feed',
    description: 'answers what the test says',
    input: z.object({ token: z.string().optional() }),
    output: z.unknown(),
    run: () => answer,
  });

const pollWorkflow = (poll: Record<string, unknown>) =>
  makeWorkflow({
    on: { poll: { action: 'test.feed', interval: '1s', ...poll } },
    steps: [{ run: 'true' }],
  });

const pollOf = (wf: ReturnType<typeof makeWorkflow>) => {
  if (!wf.triggers.poll) throw new Error('the test workflow has no on.poll');
  return wf.triggers.poll;
};

const ctx = (answer: unknown, secrets: Record<string, string> = {}) => ({
  actions: new Map([['test.feed', feedAction(answer)]]),
  env: { filesDir: '/tmp', httpAllow: [], outputLimitBytes: 1024 },
  secrets,
  signal: new AbortController().signal,
  log: () => {},
});

describe('pollItems', () => {
  it('takes the items in order with their keys; a repeated item counts once', async () => {
    const wf = pollWorkflow({ items: 'output.list' });
    const answer = { list: [{ id: 'b' }, { id: 'a' }, { id: 'b' }, { id: 7 }] };
    expect(await pollItems(wf, pollOf(wf), ctx(answer))).toEqual([
      { item: { id: 'b' }, key: 'b' },
      { item: { id: 'a' }, key: 'a' },
      { item: { id: 7 }, key: '7' },
    ]);
  });

  it('uses the key expression, and hashes very long keys', async () => {
    const wf = pollWorkflow({ items: '${output}', key: 'item.url + "#" + str(item.rev)' });
    const long = 'x'.repeat(300);
    const items = await pollItems(
      wf,
      pollOf(wf),
      ctx([
        { url: 'u', rev: 2 },
        { url: long, rev: 1 },
      ]),
    );
    expect(items.map((i) => i.key)).toEqual(['u#2', expect.stringMatching(/^sha256:[0-9a-f]{64}$/)]);
  });

  it('fails clearly when the items are not a list or an item has no key', async () => {
    const wf = pollWorkflow({ items: 'output.list' });
    await expect(pollItems(wf, pollOf(wf), ctx({ list: { id: 1 } }))).rejects.toThrow(
      'on.poll.items "output.list" gave object, not a list of items',
    );
    await expect(pollItems(wf, pollOf(wf), ctx({ list: [{ id: null }] }))).rejects.toThrow(
      'on.poll.key "item.id" gave nothing for item 0; a key must be a string or number',
    );
    await expect(pollItems(wf, pollOf(wf), ctx({ list: [{ id: [1] }] }))).rejects.toThrow(
      'on.poll.key "item.id" gave a list for item 0',
    );
    await expect(pollItems(wf, pollOf(wf), ctx({ list: [{ name: 'no id' }] }))).rejects.toThrow(
      /^on\.poll\.key: \$\{item\.id\} failed: .*id/,
    );
    await expect(pollItems(wf, pollOf(wf), ctx({}))).rejects.toThrow(/on\.poll\.items/);
  });

  it('keeps secrets out of the error', async () => {
    const wf = pollWorkflow({ inputs: { token: '${secrets.FEED_TOKEN}' }, items: 'output.list' });
    const failing = {
      ...ctx({}, { FEED_TOKEN: 'sekrit-token-123' }),
      actions: new Map([
        [
          'test.feed',
          defineAction({
            name: 'test.feed',
            description: 'fails quoting its input',
            input: z.object({ token: z.string() }),
            output: z.unknown(),
            run: (c) => {
              throw new Error(`denied for ${c.input.token}`);
            },
          }),
        ],
      ]),
    };
    await expect(pollItems(wf, pollOf(wf), failing)).rejects.toThrow(/^denied for (?!.*sekrit)/);
  });
});

describe('pollBackoff', () => {
  it('doubles from the interval up to the cap, never below the interval', () => {
    expect([1, 2, 3, 10].map((n) => pollBackoff(1000, n, 5000))).toEqual([2000, 4000, 5000, 5000]);
    expect(pollBackoff(60_000, 1, 5000)).toBe(60_000);
  });
});

describe('backfill input', () => {
  it('reads ISO dates and times as UTC unless an offset is given', () => {
    expect(parseBackfillTime('2025-01-31', '--from').toISOString()).toBe('2025-01-31T00:00:00.000Z');
    expect(parseBackfillTime('2025-01-31T09:30', '--from').toISOString()).toBe('2025-01-31T09:30:00.000Z');
    expect(parseBackfillTime('2025-01-31T09:30:00+02:00', '--to').toISOString()).toBe(
      '2025-01-31T07:30:00.000Z',
    );
  });

  it('refuses what is not an ISO date, or not a real one', () => {
    expect(() => parseBackfillTime('last tuesday', '--from')).toThrow(
      '--from "last tuesday" is not an ISO date or time; write e.g. 2025-01-31 or 2025-01-31T09:00:00Z',
    );
    expect(() => parseBackfillTime('2025-13-01', '--to')).toThrow('--to "2025-13-01" is not a real date');
    expect(() => parseBackfillTime('2025-01-01T25:00Z', '--to')).toThrow('is not a real date');
  });

  it('plans every entry oldest first and checks the range', () => {
    const wf = makeWorkflow({
      on: {
        schedule: [
          { cron: '0 */12 * * *', id: 'twice' },
          { cron: '0 6 * * *', id: 'six' },
        ],
      },
      steps: [{ run: 'true' }],
    });
    const plan = backfillPlan({
      workflow: wf,
      from: new Date('2025-01-01T00:00:00Z'),
      to: new Date('2025-01-01T12:00:00Z'),
    });
    expect(plan.map((p) => `${p.entry.id}@${p.at.toISOString().slice(11, 16)}`)).toEqual([
      'twice@00:00',
      'six@06:00',
      'twice@12:00',
    ]);
    expect(() =>
      backfillPlan({
        workflow: wf,
        from: new Date('2025-01-02T00:00:00Z'),
        to: new Date('2025-01-01T00:00:00Z'),
      }),
    ).toThrow('--from (2025-01-02T00:00:00.000Z) is after --to (2025-01-01T00:00:00.000Z)');
  });
});
