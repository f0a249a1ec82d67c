import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiRoutes } from '../../src/api/index.ts';
import { runs } from '../../src/store/schema.ts';
import { type ApiContext, createApiContext, json } from './api-context.ts';

const HELLO = `name: hello
description: Says hello
on:
  manual:
    inputs:
      who: { type: string, required: true }
  schedule:
    - cron: "0 9 * * 1-5"
      timezone: Europe/Berlin
tasks:
  greet:
    action: test.step
    inputs: { label: "hi \${trigger.inputs.who}" }
`;

const GOOD_THEN_BAD = `name: flaky-file
tasks:
  a:
    action: test.step
    inputs: { label: a }
`;

const BROKEN = `name: flaky-file
tasks:
  a:
    action: test.step
    inputs: { label: a }
    depends_on: [missing]
`;

let ctx: ApiContext;
beforeAll(async () => {
  ctx = await createApiContext();
  ctx.registry.setFile('hello.yaml', HELLO);
  ctx.registry.setFile('flaky.yaml', GOOD_THEN_BAD);
  ctx.registry.setFile('flaky.yaml', BROKEN);
  ctx.registry.setFile(
    'team/deploy.yaml',
    'tasks:\n  go:\n    action: test.step\n    inputs: { label: go }\n',
  );
  ctx.registry.setFile('never.yaml', 'name: never\ntasks: [\n');
});
afterAll(async () => {
  await ctx?.cleanup();
});

const berlin = (iso: string) =>
  new Intl.DateTimeFormat('en-GB', {
    timeZone: 'Europe/Berlin',
    weekday: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(new Date(iso));

describe('GET /api/workflows', () => {
  it('lists every file with validity, problems, version, triggers and the next schedule time', async () => {
    const { status, body } = await ctx.call('GET', '/api/workflows');
    expect(status).toBe(200);
    const byName = Object.fromEntries(body.workflows.map((w: { name: string }) => [w.name, w]));
    expect(Object.keys(byName).sort()).toEqual(['flaky-file', 'hello', 'never', 'team/deploy']);

    const hello = byName.hello;
    expect(hello).toMatchObject({
      description: 'Says hello',
      file: 'hello.yaml',
      valid: true,
      problems: [],
      triggers: {
        types: ['schedule', 'manual'],
        webhook: null,
        manual: { inputs: { who: { type: 'string', required: true } } },
      },
    });
    expect(hello.version).toMatch(/^[0-9a-f]{64}$/);
    const next = hello.next_run_at as string;
    expect(hello.triggers.schedule).toEqual([
      {
        id: expect.stringMatching(/^[0-9a-f]{10}$/),
        cron: '0 9 * * 1-5',
        timezone: 'Europe/Berlin',
        overlap: 'skip',
        catchup: 'none',
        catchup_limit: 10,
        next_run_at: next,
        next_runs: [next, expect.any(String), expect.any(String)],
      },
    ]);
    expect(hello.triggers.schedule_paused).toBe(false);
    expect(hello.triggers.poll).toBeNull();
    expect(new Date(next).getTime()).toBeGreaterThan(Date.now());
    // 09:00 on a weekday, Berlin time, whatever the server's time zone
    expect(berlin(next)).toMatch(/^(Mon|Tue|Wed|Thu|Fri) 09:00$/);

    const flaky = byName['flaky-file'];
    expect(flaky.valid).toBe(false);
    expect(flaky.version).toMatch(/^[0-9a-f]{64}$/); // the last good one is kept
    expect(flaky.problems).toEqual([
      expect.objectContaining({ file: 'flaky.yaml', line: 6, column: expect.any(Number) }),
    ]);
    expect(flaky.problems[0].message).toContain('missing');
    expect(flaky.next_run_at).toBeNull();

    expect(byName.never).toMatchObject({ valid: false, version: null, file: 'never.yaml' });
    expect(byName.never.problems[0].message).toMatch(/YAML/);
  });
});

describe('GET /api/workflows/{name}', () => {
  it('returns the definition, the source on disk and the stored versions', async () => {
    await ctx.call('POST', '/api/workflows/hello/runs', { inputs: { who: 'Ada' } });
    const { status, body } = await ctx.call('GET', '/api/workflows/hello');
    expect(status).toBe(200);
    expect(body.source).toBe(HELLO);
    expect(body.definition).toMatchObject({
      name: 'hello',
      tasks: [expect.objectContaining({ id: 'greet' })],
    });
    expect(body.definition.source.text).toBeUndefined();
    expect(body.versions).toEqual([
      {
        id: expect.any(String),
        hash: body.version,
        created_at: expect.any(String),
        git_commit: null,
        current: true,
      },
    ]);
  });

  it('shows a broken file: problems, last good definition, current source', async () => {
    const { status, body } = await ctx.call('GET', '/api/workflows/flaky-file');
    expect(status).toBe(200);
    expect(body).toMatchObject({ valid: false, source: BROKEN, definition: { name: 'flaky-file' } });
    expect(body.versions).toEqual([]);
  });

  it('accepts names with "/" as is or encoded', async () => {
    for (const path of ['/api/workflows/team/deploy', '/api/workflows/team%2Fdeploy']) {
      const { status, body } = await ctx.call('GET', path);
      expect(status, path).toBe(200);
      expect(body.name).toBe('team/deploy');
      expect(body.file).toBe('team/deploy.yaml');
    }
  });

  it('404s an unknown workflow', async () => {
    const { status, body } = await ctx.call('GET', '/api/workflows/nope');
    expect(status).toBe(404);
    expect(body).toEqual({
      error: { code: 'not_found', message: 'no workflow named "nope"', details: null },
    });
  });
});

describe('POST /api/workflows/{name}/runs', () => {
  it('starts a run (201 with the run and its URL) and commits it before enqueueing', async () => {
    const depth = await ctx.queue.depth();
    const { status, body, headers } = await ctx.call('POST', '/api/workflows/hello/runs', {
      inputs: { who: 'Grace' },
    });
    expect(status).toBe(201);
    expect(body.run).toMatchObject({
      workflow: 'hello',
      status: 'queued',
      trigger_type: 'api',
      trigger: { type: 'api', inputs: { who: 'Grace' } },
      parent_run_id: null,
    });
    expect(body.url).toBe(`/api/runs/${body.run.id}`);
    expect(headers.get('location')).toBe(body.url);
    expect(await ctx.queue.depth()).toBe(depth + 1);
    const [row] = await ctx.store.db.select().from(runs).where(eq(runs.id, body.run.id));
    expect(row?.enqueuedAt).toBeInstanceOf(Date);
  });

  it('honours Idempotency-Key: 201 then 200 with the same run, and no second run', async () => {
    const headers = { 'Idempotency-Key': 'order-42' };
    const first = await ctx.call('POST', '/api/workflows/hello/runs', { inputs: { who: 'A' } }, headers);
    const again = await ctx.call('POST', '/api/workflows/hello/runs', { inputs: { who: 'A' } }, headers);
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.body.run.id).toBe(first.body.run.id);
    const rows = await ctx.store.db.select().from(runs).where(eq(runs.idempotencyKey, 'order-42'));
    expect(rows).toHaveLength(1);
  });

  it('starts workflows whose names contain "/" and that declare no inputs, without a body', async () => {
    const res = await ctx.app.request('/api/workflows/team/deploy/runs', { method: 'POST' });
    expect(res.status).toBe(201);
    expect((await json(res)).run.workflow).toBe('team/deploy');
  });

  it('422s inputs that do not match the declared ones', async () => {
    const { status, body } = await ctx.call('POST', '/api/workflows/hello/runs', {
      inputs: { who: 7, x: 1 },
    });
    expect(status).toBe(422);
    expect(body.error.code).toBe('validation');
    expect(body.error.details.problems).toEqual([
      expect.stringContaining('unknown input "x"'),
      expect.stringContaining('"who" must be a string'),
    ]);
    const missing = await ctx.call('POST', '/api/workflows/hello/runs', {});
    expect(missing.status).toBe(422);
    expect(missing.body.error.message).toContain('input "who" is required');
  });

  it('422s a body of the wrong shape, with the issues in details', async () => {
    const { status, body } = await ctx.call('POST', '/api/workflows/hello/runs', { input: { who: 'x' } });
    expect(status).toBe(422);
    expect(body.error.code).toBe('validation');
    expect(body.error.details.target).toBe('json');
    expect(body.error.details.issues[0]).toMatchObject({ code: 'unrecognized_keys' });
    const notObject = await ctx.call('POST', '/api/workflows/hello/runs', { inputs: 'who=x' });
    expect(notObject.status).toBe(422);
    expect(notObject.body.error.details.issues[0].path).toBe('inputs');
  });

  it('400s malformed JSON and 415s a body that is not JSON', async () => {
    const bad = await ctx.call('POST', '/api/workflows/hello/runs', '{"inputs": ', {
      'content-type': 'application/json',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'validation', details: null });
    const text = await ctx.call('POST', '/api/workflows/hello/runs', 'who=x', {
      'content-type': 'text/plain',
    });
    expect(text.status).toBe(415);
    expect(text.body.error.code).toBe('validation');
  });

  it('413s a body over the limit', async () => {
    const small = apiRoutes({ ...ctx.deps, config: { ...ctx.deps.config, bodyLimitBytes: 64 } });
    const res = await small.request('/api/workflows/hello/runs', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: { who: 'x'.repeat(200) } }),
    });
    expect(res.status).toBe(413);
    expect((await json(res)).error).toMatchObject({ code: 'validation', details: { limit: 64 } });
  });

  it('404s an unknown workflow and 409s one whose file has problems, creating no run', async () => {
    const before = (await ctx.store.db.select().from(runs)).length;
    const unknown = await ctx.call('POST', '/api/workflows/nope/runs', {});
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('not_found');
    const broken = await ctx.call('POST', '/api/workflows/flaky-file/runs', {});
    expect(broken.status).toBe(409);
    expect(broken.body.error.code).toBe('conflict');
    expect(broken.body.error.details.problems[0]).toMatchObject({ file: 'flaky.yaml', line: 6 });
    expect((await ctx.store.db.select().from(runs)).length).toBe(before);
  });

  it('records a new version when the file changes', async () => {
    ctx.registry.setFile('hello.yaml', HELLO.replace('Says hello', 'Says hello twice'));
    await ctx.call('POST', '/api/workflows/hello/runs', { inputs: { who: 'B' } });
    const { body } = await ctx.call('GET', '/api/workflows/hello');
    expect(body.versions).toHaveLength(2);
    expect(body.versions[0]).toMatchObject({ hash: body.version, current: true });
    expect(body.versions[1].current).toBe(false);
  });
});

describe('unknown routes', () => {
  it('answer 404 in the error shape', async () => {
    const { status, body } = await ctx.call('GET', '/api/nothing-here');
    expect(status).toBe(404);
    expect(body.error).toEqual({
      code: 'not_found',
      message: 'no route for GET /api/nothing-here',
      details: null,
    });
  });
});
