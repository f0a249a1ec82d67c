// biome-ignore-all lint/suspicious/noTemplateCurlyInString: workflow templates are written as ${...} inside plain strings
import type Redis from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisQueue } from '../../src/queue/redis-queue.ts';
import { getRun } from '../../src/store/runs.ts';
import { signGithub, signStandardWebhooks } from '../../src/triggers/webhook-sign.ts';
import { createTestStore } from '../helpers/db.ts';
import { connectRedis, dropPrefix, REDIS_TEST_URL, testPrefix } from '../helpers/redis.ts';
import { answer, post, type WebhookApp, webhookApp } from '../helpers/webhook-app.ts';

/** Repeated deliveries return the first run, on Postgres and Redis Streams. */

const GH = 'dedupe-gh-secret';
const SW = `whsec_${Buffer.from('dedupe-standard-webhooks-key-01').toString('base64')}`;

let ctx: Awaited<ReturnType<typeof createTestStore>>;
let redis: Redis;
let queue: RedisQueue;
let hooks: WebhookApp;
const prefix = testPrefix();

beforeAll(async () => {
  ctx = await createTestStore();
  redis = await connectRedis();
  queue = RedisQueue.connect(REDIS_TEST_URL, prefix);
  hooks = webhookApp(ctx.store.db, queue);
  const wf = (name: string, webhook: string) =>
    hooks.registry.add(`name: ${name}\non:\n  webhook: ${webhook}\ntasks:\n  a: { run: echo hi }\n`);
  wf('gh', '{ verify: github, secret: GH }');
  wf('sw', '{ verify: standard-webhooks, secret: SW }');
  wf('plain', '');
  wf('plain2', '');
  wf('by-order', "{ idempotency_key: 'order-${trigger.body.order.id}' }");
  wf('by-query', '{ idempotency_key: "trigger.query[\'delivery\']" }');
  wf('by-optional', '{ idempotency_key: "${trigger.headers[\'x-event-id\']}" }');
  Object.assign(hooks.secrets, { GH, SW });
});
afterAll(async () => {
  await queue?.close();
  if (redis) {
    await dropPrefix(redis, prefix);
    redis.disconnect();
  }
  await ctx?.cleanup();
});

async function send(path: string, body: string, headers: Record<string, string> = {}) {
  const res = await post(hooks.app, path, body, headers);
  return { status: res.status, answer: await answer(res) };
}

describe('dedupe by header', () => {
  it('X-GitHub-Delivery: a redelivery gets the first run, with 200 and duplicate: true', async () => {
    const headers = { ...signGithub(GH, '{"n":1}'), 'X-GitHub-Delivery': 'd-1' };
    const first = await send('/hooks/gh', '{"n":1}', headers);
    const again = await send('/hooks/gh', '{"n":1}', headers);
    expect(first.status).toBe(202);
    expect(first.answer.duplicate).toBe(false);
    expect(again).toEqual({
      status: 200,
      answer: { run_id: first.answer.run_id, url: first.answer.url, duplicate: true },
    });
    expect(await hooks.runCount('gh')).toBe(1);
    expect((await getRun(ctx.store.db, first.answer.run_id))?.idempotencyKey).toBe('d-1');
  });

  it('10 concurrent deliveries with the same X-GitHub-Delivery make one run', async () => {
    const body = '{"burst":true}';
    const headers = { ...signGithub(GH, body), 'X-GitHub-Delivery': 'burst-1' };
    const depth = await queue.depth();
    const results = await Promise.all(Array.from({ length: 10 }, () => send('/hooks/gh', body, headers)));
    const ids = new Set(results.map((r) => r.answer.run_id));
    expect(ids.size).toBe(1);
    expect(results.filter((r) => r.status === 202)).toHaveLength(1);
    expect(results.filter((r) => r.status === 200 && r.answer.duplicate)).toHaveLength(9);
    expect(await hooks.runCount('gh')).toBe(2);
    expect(await queue.depth()).toBe(depth + 1);
  });

  it('webhook-id (Standard Webhooks)', async () => {
    const body = '{"e":1}';
    const first = await send('/hooks/sw', body, signStandardWebhooks(SW, 'msg_abc', body));
    const again = await send('/hooks/sw', body, signStandardWebhooks(SW, 'msg_abc', body));
    expect([first.status, again.status]).toEqual([202, 200]);
    expect(again.answer.run_id).toBe(first.answer.run_id);
    const other = await send('/hooks/sw', body, signStandardWebhooks(SW, 'msg_def', body));
    expect(other.status).toBe(202);
    expect(await hooks.runCount('sw')).toBe(2);
  });

  it('Idempotency-Key', async () => {
    const first = await send('/hooks/plain', '{}', { 'Idempotency-Key': 'k-1' });
    const again = await send('/hooks/plain', '{"different":"body"}', { 'Idempotency-Key': 'k-1' });
    expect(again.answer).toMatchObject({ run_id: first.answer.run_id, duplicate: true });
    expect(await hooks.runCount('plain')).toBe(1);
  });

  it('scopes keys to the workflow, and without any key every delivery runs', async () => {
    const a = await send('/hooks/plain2', '{}', { 'Idempotency-Key': 'k-1' });
    expect(a.status).toBe(202);
    expect((await send('/hooks/plain2', '{}')).status).toBe(202);
    expect((await send('/hooks/plain2', '{}')).status).toBe(202);
    expect(await hooks.runCount('plain2')).toBe(3);
  });

  it('stores a very long key as its hash', async () => {
    const long = 'x'.repeat(5000);
    const first = await send('/hooks/plain2', '{}', { 'Idempotency-Key': long });
    const again = await send('/hooks/plain2', '{}', { 'Idempotency-Key': long });
    expect(again.answer.run_id).toBe(first.answer.run_id);
    expect((await getRun(ctx.store.db, first.answer.run_id))?.idempotencyKey).toMatch(
      /^sha256:[0-9a-f]{64}$/,
    );
  });
});

describe('dedupe by the workflow expression', () => {
  it('renders the template against the trigger, and it wins over headers', async () => {
    const first = await send('/hooks/by-order', '{"order":{"id":7}}', { 'Idempotency-Key': 'a' });
    const again = await send('/hooks/by-order', '{"order":{"id":7},"retry":true}', {
      'Idempotency-Key': 'b',
    });
    expect(again).toMatchObject({ status: 200, answer: { run_id: first.answer.run_id, duplicate: true } });
    expect((await getRun(ctx.store.db, first.answer.run_id))?.idempotencyKey).toBe('order-7');
    const other = await send('/hooks/by-order', '{"order":{"id":8}}', { 'Idempotency-Key': 'a' });
    expect(other.status).toBe(202);
  });

  it('evaluates a bare expression (here over the query)', async () => {
    const first = await send('/hooks/by-query?delivery=q1', '{}');
    const again = await send('/hooks/by-query?delivery=q1', '{}');
    expect(again.answer.run_id).toBe(first.answer.run_id);
    expect((await getRun(ctx.store.db, first.answer.run_id))?.idempotencyKey).toBe('q1');
  });

  it('falls back to the headers when the expression gives nothing', async () => {
    const first = await send('/hooks/by-optional', '{}', { 'X-GitHub-Delivery': 'fb-1' });
    const again = await send('/hooks/by-optional', '{}', { 'X-GitHub-Delivery': 'fb-1' });
    expect(again.answer.run_id).toBe(first.answer.run_id);
  });

  it('answers 422 and creates no run when the expression cannot be evaluated', async () => {
    const before = await hooks.runCount('by-order');
    const res = await post(hooks.app, '/hooks/by-order', '{"no_order":true}');
    expect(res.status).toBe(422);
    const { error } = await answer(res);
    expect(error.code).toBe('validation');
    expect(error.message).toContain('on.webhook.idempotency_key');
    expect(await hooks.runCount('by-order')).toBe(before);
  });
});
