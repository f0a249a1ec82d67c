import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MemoryQueue } from '../../src/queue/memory-queue.ts';
import { getRun } from '../../src/store/runs.ts';
import { signGithub } from '../../src/triggers/webhook-sign.ts';
import { createTestStore } from '../helpers/db.ts';
import { answer, post, type WebhookApp, webhookApp } from '../helpers/webhook-app.ts';

let ctx: Awaited<ReturnType<typeof createTestStore>>;
let queue: MemoryQueue;
let hooks: WebhookApp;

beforeAll(async () => {
  ctx = await createTestStore();
  queue = new MemoryQueue();
  hooks = webhookApp(ctx.store.db, queue, { bodyLimit: '4kb' });
  const { registry } = hooks;
  registry.add('name: open\non:\n  webhook:\ntasks:\n  a: { run: echo hi }\n');
  registry.add('name: custom\non:\n  webhook: { path: acme/orders }\ntasks:\n  a: { run: echo hi }\n');
  // Its name is another workflow's custom path: the path wins.
  registry.add('name: acme/orders\non:\n  webhook:\ntasks:\n  a: { run: echo hi }\n');
  registry.add('name: manual-only\non:\n  manual:\ntasks:\n  a: { run: echo hi }\n');
  registry.add(
    'name: signed\non:\n  webhook: { verify: github, secret: GH_SECRET }\ntasks:\n  a: { run: echo hi }\n',
  );
  registry.add(
    'name: unset-secret\non:\n  webhook: { verify: github, secret: NOT_SET }\ntasks:\n  a: { run: echo hi }\n',
  );
  registry.add(
    'name: bad-key\non:\n  webhook: { verify: standard-webhooks, secret: BAD_KEY }\ntasks:\n  a: { run: echo hi }\n',
  );
  registry.add(
    [
      'name: typed',
      'on:',
      '  webhook:',
      '    schema:',
      '      type: object',
      '      required: [order]',
      '      properties:',
      '        order:',
      '          type: object',
      '          required: [id, total]',
      '          properties: { id: { type: string }, total: { type: number, minimum: 0 } }',
      'tasks:',
      '  a: { run: echo hi }',
      '',
    ].join('\n'),
  );
  const lastGood = registry.add(
    'name: was-good\non:\n  webhook:\ntasks:\n  a: { run: echo hi }\n',
    'was-good',
  );
  // The registry keeps the last good definition, but the file on disk is broken now.
  registry.entries().splice(
    registry.entries().findIndex((e) => e.name === 'was-good'),
    1,
  );
  registry.addBroken(
    'was-good',
    [{ file: '/wf/was-good.yaml', line: 3, column: 5, message: 'bad thing' }],
    lastGood,
  );
  registry.addBroken('never-good', [
    { file: '/wf/never-good.yaml', line: 1, column: 1, message: 'not YAML' },
  ]);
  hooks.secrets.GH_SECRET = 'gh-secret';
  hooks.secrets.BAD_KEY = 'not a whsec key!';
});
afterAll(async () => {
  await queue?.close();
  await ctx?.cleanup();
});

let before: number;
beforeEach(async () => {
  before = await hooks.runCount();
});
const expectNoRun = async () => expect(await hooks.runCount()).toBe(before);

describe('POST /hooks/<name>', () => {
  it('commits and enqueues a run and answers 202 at once, with no worker running', async () => {
    const depth = await queue.depth();
    const started = performance.now();
    const res = await post(hooks.app, '/hooks/open?source=test&n=1', JSON.stringify({ hello: 'world' }), {
      'X-Custom': 'yes',
      Authorization: 'Bearer nope',
      Cookie: 'session=1',
    });
    const elapsed = performance.now() - started;
    expect(res.status).toBe(202);
    const reply = await answer(res);
    expect(reply).toEqual({
      run_id: expect.any(String),
      url: `/api/runs/${reply.run_id}`,
      duplicate: false,
    });
    expect(elapsed).toBeLessThan(2000);
    const run = await getRun(ctx.store.db, reply.run_id);
    expect(run?.status).toBe('queued');
    expect(run?.triggerType).toBe('webhook');
    expect(run?.enqueuedAt).not.toBeNull();
    const trigger = run?.trigger as { body: unknown; headers: Record<string, string>; query: unknown };
    expect(trigger.body).toEqual({ hello: 'world' });
    expect(trigger.query).toEqual({ source: 'test', n: '1' });
    expect(trigger.headers['x-custom']).toBe('yes');
    expect(trigger.headers.authorization).toBeUndefined();
    expect(trigger.headers.cookie).toBeUndefined();
    expect(await queue.depth()).toBe(depth + 1);
    expect(await hooks.runCount()).toBe(before + 1);
  });

  it('serves a custom path before a workflow of that name, and the name still works', async () => {
    const viaPath = await answer(await post(hooks.app, '/hooks/acme/orders', '{}'));
    expect((await getRun(ctx.store.db, viaPath.run_id))?.workflow).toBe('custom');
    const viaName = await post(hooks.app, '/hooks/custom', '{}');
    expect(viaName.status).toBe(202);
    expect((await getRun(ctx.store.db, (await answer(viaName)).run_id))?.workflow).toBe('custom');
    expect((await post(hooks.app, '/hooks/open/', '{}')).status).toBe(202);
  });

  it('answers 404 for an unknown workflow, without a run', async () => {
    const res = await post(hooks.app, '/hooks/nope', '{}');
    expect(res.status).toBe(404);
    expect(await answer(res)).toEqual({
      error: { code: 'not_found', message: 'no workflow or webhook path "nope"', details: null },
    });
    await expectNoRun();
  });

  it('answers 409 for a workflow whose file is broken, even with a last good version', async () => {
    for (const name of ['was-good', 'never-good']) {
      const res = await post(hooks.app, `/hooks/${name}`, '{}');
      expect(res.status).toBe(409);
      const { error } = await answer(res);
      expect(error.code).toBe('conflict');
      expect(error.message).toMatch(new RegExp(`^workflow "${name}" is invalid: \\d+:\\d+: `));
      expect(error.details.problems).toHaveLength(1);
      expect(error.details.problems[0].file).toBeUndefined();
    }
    await expectNoRun();
  });

  it('answers 409 for a workflow without a webhook trigger', async () => {
    const res = await post(hooks.app, '/hooks/manual-only', '{}');
    expect(res.status).toBe(409);
    expect((await answer(res)).error.message).toBe(
      'workflow "manual-only" has no webhook trigger (add on.webhook)',
    );
    await expectNoRun();
  });

  it('answers 409 naming the variable when the secret is not set', async () => {
    const res = await post(hooks.app, '/hooks/unset-secret', '{}', signGithub('x', '{}'));
    expect(res.status).toBe(409);
    expect((await answer(res)).error.message).toContain('set BATON_SECRET_NOT_SET');
    await expectNoRun();
  });

  it('answers 409 when the secret is not usable for its preset', async () => {
    const res = await post(hooks.app, '/hooks/bad-key', '{}');
    expect(res.status).toBe(409);
    expect((await answer(res)).error.message).toContain('the secret BAD_KEY is not usable');
    await expectNoRun();
  });

  it('answers 401 with the same generic message whatever is wrong, and logs the reason', async () => {
    const missing = await post(hooks.app, '/hooks/signed', '{}');
    const wrong = await post(hooks.app, '/hooks/signed', '{}', signGithub('other', '{}'));
    expect(missing.status).toBe(401);
    expect(wrong.status).toBe(401);
    const a = await answer(missing);
    expect(a).toEqual(await answer(wrong));
    expect(a.error).toEqual({
      code: 'unauthorized',
      message: 'the webhook signature is missing, expired or does not match',
      details: null,
    });
    expect(hooks.outcomes.slice(-2).map((o) => [o.outcome, o.status, o.reason])).toEqual([
      ['unauthorized', 401, 'missing X-Hub-Signature-256 header'],
      ['unauthorized', 401, 'X-Hub-Signature-256 does not match'],
    ]);
    await expectNoRun();
  });

  it('answers a GitHub ping with 200 and no run', async () => {
    const res = await post(hooks.app, '/hooks/signed', '{"zen":"Keep it simple."}', {
      ...signGithub('gh-secret', '{"zen":"Keep it simple."}'),
      'X-GitHub-Event': 'ping',
    });
    expect(res.status).toBe(200);
    expect(await answer(res)).toEqual({ ping: true, run_id: null, duplicate: false });
    const unsigned = await post(hooks.app, '/hooks/open', '{}', { 'X-GitHub-Event': 'ping' });
    expect(unsigned.status).toBe(200);
    // The signature is still checked first.
    const forged = await post(hooks.app, '/hooks/signed', '{}', { 'X-GitHub-Event': 'ping' });
    expect(forged.status).toBe(401);
    await expectNoRun();
  });

  it('answers 400 for malformed JSON, without a run', async () => {
    const res = await post(hooks.app, '/hooks/open', '{"a":');
    expect(res.status).toBe(400);
    const { error } = await answer(res);
    expect(error.code).toBe('validation');
    expect(error.message).toMatch(/^the body is not valid JSON/);
    await expectNoRun();
  });
});

describe('bodies', () => {
  const bodyOf = async (res: Response) => {
    expect(res.status).toBe(202);
    const run = await getRun(ctx.store.db, (await answer(res)).run_id);
    return (run?.trigger as { body: unknown } | undefined)?.body;
  };

  it('parses a form into an object', async () => {
    const res = await post(hooks.app, '/hooks/open', 'payload=%7B%22a%22%3A1%7D&tag=x&tag=y', {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(await bodyOf(res)).toEqual({ payload: '{"a":1}', tag: ['x', 'y'] });
  });

  it('keeps text as a string', async () => {
    const res = await post(hooks.app, '/hooks/open', 'deploy finished', { 'content-type': 'text/plain' });
    expect(await bodyOf(res)).toBe('deploy finished');
  });

  it('stores other types as base64', async () => {
    const res = await post(hooks.app, '/hooks/open', new Uint8Array([0, 1, 2, 255]), {
      'content-type': 'application/octet-stream',
    });
    expect(await bodyOf(res)).toBe('AAEC/w==');
  });

  it('gives an empty body as null', async () => {
    expect(await bodyOf(await post(hooks.app, '/hooks/open', ''))).toBeNull();
  });
});

describe('declared body schema', () => {
  it('accepts a body that matches', async () => {
    const res = await post(hooks.app, '/hooks/typed', JSON.stringify({ order: { id: 'o1', total: 3 } }));
    expect(res.status).toBe(202);
  });

  it('answers 422 with every problem and creates no run', async () => {
    const res = await post(hooks.app, '/hooks/typed', JSON.stringify({ order: { id: 7, total: -1 } }));
    expect(res.status).toBe(422);
    const { error } = await answer(res);
    expect(error.code).toBe('validation');
    expect(error.message).toContain('the body does not match the schema of workflow "typed"');
    expect(error.details.problems.map((p: { path: string }) => p.path)).toEqual(['order.id', 'order.total']);
    const missing = await post(hooks.app, '/hooks/typed', '{}');
    expect(missing.status).toBe(422);
    expect((await answer(missing)).error.details.problems).toEqual([
      { path: 'order', message: expect.any(String) },
    ]);
    await expectNoRun();
  });
});

describe('body limit (4kb here)', () => {
  it('answers 413 from Content-Length before reading the body', async () => {
    const res = await post(hooks.app, '/hooks/open', 'x'.repeat(5000), { 'content-length': '5000' });
    expect(res.status).toBe(413);
    expect((await answer(res)).error).toEqual({
      code: 'validation',
      message: 'the body is larger than the limit of 4096 bytes (BATON_BODY_LIMIT)',
      details: { limit: 4096 },
    });
    await expectNoRun();
  });

  it('answers 413 to a streamed body without Content-Length, reading no further than the limit', async () => {
    let pulled = 0;
    const chunk = new TextEncoder().encode('y'.repeat(1024));
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += 1;
        if (pulled > 100) controller.close();
        else controller.enqueue(chunk);
      },
    });
    const req = new Request('http://localhost/hooks/open', {
      method: 'POST',
      body: stream,
      headers: { 'content-type': 'application/json' },
      duplex: 'half',
    } as RequestInit);
    expect(req.headers.get('content-length')).toBeNull();
    const res = await hooks.app.request(req);
    expect(res.status).toBe(413);
    // 100 chunks were on offer; it stopped just past 4kb.
    expect(pulled).toBeLessThan(10);
    await expectNoRun();
  });

  it('accepts a streamed body under the limit', async () => {
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"streamed":'));
        controller.enqueue(new TextEncoder().encode('true}'));
        controller.close();
      },
    });
    const req = new Request('http://localhost/hooks/open', {
      method: 'POST',
      body: stream,
      headers: { 'content-type': 'application/json' },
      duplex: 'half',
    } as RequestInit);
    const res = await hooks.app.request(req);
    expect(res.status).toBe(202);
    const run = await getRun(ctx.store.db, (await answer(res)).run_id);
    expect(run?.trigger).toMatchObject({ body: { streamed: true } });
  });
});
