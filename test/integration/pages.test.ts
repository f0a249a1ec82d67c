import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getRun } from '../../src/store/runs.ts';
import { pollers, runs } from '../../src/store/schema.ts';
import { pausedWorkflows } from '../../src/store/triggers.ts';
import type { Workflow } from '../../src/workflow/types.ts';
import { assets } from '../../views/assets.ts';
import { createPagesContext, seedRun } from './pages-context.ts';

type Ctx = Awaited<ReturnType<typeof createPagesContext>>;
let ctx: Ctx;
let greet: Workflow;
const SECRET = 'sup3r-secret-value';

const GREET = `name: greet
description: Greets someone
on:
  manual:
    inputs:
      who: { type: string, required: true, description: Whom to greet }
      times: { type: integer, default: 2 }
      loud: { type: boolean }
      mood: { enum: [calm, cheerful] }
tasks:
  hello:
    action: test.step
    inputs: { label: "hi \${trigger.inputs.who}" }
  bye:
    action: test.step
    inputs: { label: bye }
    depends_on: [hello]
`;

const html = { Accept: 'text/html' };
const htmx = (target?: string) => ({ 'HX-Request': 'true', ...(target ? { 'HX-Target': target } : {}) });
const form = (fields: Record<string, string>) => new URLSearchParams(fields);

async function get(path: string, headers: Record<string, string> = html) {
  const res = await ctx.web.request(path, { headers });
  return { res, body: await res.text() };
}

async function post(path: string, body?: URLSearchParams, headers: Record<string, string> = {}) {
  const res = await ctx.web.request(path, { method: 'POST', headers: { ...html, ...headers }, body });
  return { res, body: await res.text() };
}

beforeAll(async () => {
  // createApp masks the values of BATON_SECRET_* in its own environment.
  process.env.BATON_SECRET_PAGES_TEST = SECRET;
  ctx = await createPagesContext();
  greet = ctx.registry.setFile('greet.yaml', GREET).workflow as Workflow;
  ctx.registry.setFile(
    'nightly.yaml',
    'on:\n  schedule: [{ cron: "0 3 * * *", timezone: Europe/Berlin }]\ntasks:\n  a: { action: test.step, inputs: { label: a } }\n',
  );
  ctx.registry.setFile(
    'broken.yaml',
    'name: broken\ntasks:\n  a:\n    action: test.step\n    depends_on: [nope]\n',
  );
});
afterAll(async () => {
  delete process.env.BATON_SECRET_PAGES_TEST;
  await ctx?.cleanup();
});

describe('overview', () => {
  it('lists every workflow with triggers, problems at file:line, next schedule, last runs and recent runs', async () => {
    const id = await seedRun(ctx.store.db, greet, 'failed');
    const { res, body } = await get('/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(body).toMatch(/^<!doctype html>/);
    expect(body).toContain('href="/workflows/greet"');
    expect(body).toContain('broken.yaml:5:');
    expect(body).toContain('0 3 * * * (Europe/Berlin)');
    expect(body).toContain(`class="strip-cell st-failed" href="/runs/${id}"`);
    expect(body).toContain('Recent runs');
    // htmx and the stylesheet come from Baton itself, with a content hash in the URL.
    expect(body).toContain(`src="${assets().htmx.url}"`);
    expect(body).not.toMatch(/https?:\/\/(unpkg|cdn)/);
  });
});

describe('workflow page', () => {
  it('shows the graph, the source with line numbers, versions and a typed run form', async () => {
    const { res, body } = await get('/workflows/greet');
    expect(res.status).toBe(200);
    expect(body).toContain('Greets someone');
    expect(body).toContain('<svg class="dag');
    expect(body).toContain('data-task="hello"');
    expect(body).toContain('id="L1"');
    expect(body).toContain(greet.source.hash.slice(0, 12));
    expect(body).toMatch(/<input id="in-who" name="input.who" type="text" required=""/);
    expect(body).toMatch(/name="input.times" type="number" step="1" value="2"/);
    expect(body).toContain('type="checkbox" name="input.loud"');
    expect(body).toContain('<option value="1">cheerful</option>');
  });

  it('serves workflows whose names have a slash, and runs them', async () => {
    ctx.registry.setFile('ops/deploy.yaml', 'tasks:\n  a: { action: test.step, inputs: { label: a } }\n');
    const page = await get('/workflows/ops/deploy');
    expect(page.res.status).toBe(200);
    expect(page.body).toContain('action="/workflows/ops/deploy/runs"');
    const started = await post('/workflows/ops/deploy/runs', form({ inputs_json: '{"x": 1}' }));
    expect(started.res.status).toBe(303);
    const run = await getRun(ctx.store.db, (started.res.headers.get('location') ?? '').slice(6));
    expect(run).toMatchObject({ workflow: 'ops/deploy', trigger: { inputs: { x: 1 } } });
  });

  it('answers an unknown workflow with a 404 page, or a fragment for htmx', async () => {
    const page = await get('/workflows/nope');
    expect(page.res.status).toBe(404);
    expect(page.body).toContain('no workflow named &quot;nope&quot;');
    expect(page.body).toContain('<!doctype html>');
    const fragment = await get('/workflows/nope', { ...html, ...htmx() });
    expect(fragment.res.status).toBe(404);
    expect(fragment.res.headers.get('hx-retarget')).toBe('#flash');
    expect(fragment.body).toMatch(/^<div class="alert alert-error"/);
  });

  it('starts a run from the form with typed inputs and sends the browser to it', async () => {
    const fields = form({ 'input.who': 'Ada', 'input.times': '3', 'input.loud': 'true', 'input.mood': '1' });
    const { res } = await post('/workflows/greet/runs', fields, htmx('run-form-result'));
    expect(res.status).toBe(200);
    const location = res.headers.get('hx-redirect') ?? '';
    expect(location).toMatch(/^\/runs\/[0-9a-f-]{36}$/);
    const run = await getRun(ctx.store.db, location.slice('/runs/'.length));
    expect(run).toMatchObject({ workflow: 'greet', triggerType: 'manual', status: 'queued' });
    expect(run?.trigger).toMatchObject({ inputs: { who: 'Ada', times: 3, loud: true, mood: 'cheerful' } });

    const plain = await post('/workflows/greet/runs', form({ 'input.who': 'Bo' }));
    expect(plain.res.status).toBe(303);
    expect(plain.res.headers.get('location')).toMatch(/^\/runs\//);
  });

  it('shows a bad input as a fragment in the form, and refuses a workflow with problems', async () => {
    const { res, body } = await post(
      '/workflows/greet/runs',
      form({ 'input.times': 'many' }),
      htmx('run-form-result'),
    );
    expect(res.status).toBe(422);
    expect(res.headers.get('hx-retarget')).toBeNull();
    expect(body).toContain('input &quot;times&quot; must be a number');
    const missing = await post('/workflows/greet/runs', form({}), htmx('run-form-result'));
    expect(missing.body).toContain('input &quot;who&quot; is required');
    const broken = await post('/workflows/broken/runs', form({}), htmx('run-form-result'));
    expect(broken.res.status).toBe(409);
  });
});

describe('schedules and pollers', () => {
  const paused = async () => (await pausedWorkflows(ctx.store.db)).has('nightly');

  it("shows each schedule entry with the scheduler's next times, and a failing poller on the overview", async () => {
    const api = await ctx.web.request('/api/workflows/nightly');
    const [entry] = ((await api.json()) as { triggers: { schedule: { id: string; next_runs: string[] }[] } })
      .triggers.schedule;
    const { body } = await get('/workflows/nightly');
    expect(body).toContain('<section class="section" id="schedules" data-paused="false">');
    expect(body).toContain('data-schedule-state="active"');
    const row = body.slice(body.indexOf(`<tr data-entry="${entry?.id}">`));
    expect(row).toContain('<code>0 3 * * *</code>');
    expect(row).toContain('Europe/Berlin');
    expect(row).toContain('<td data-label="Overlap">skip</td>');
    expect(row).toContain('<td data-label="Catch-up">none</td>');
    expect(entry?.next_runs).toHaveLength(3);
    for (const t of entry?.next_runs ?? []) expect(row).toContain(`datetime="${t}"`);
    expect(body).toContain('data-command="pause"');
    // A workflow without schedules has no such section or button.
    expect((await get('/workflows/greet')).body).not.toContain('id="schedules"');
  });

  it('pauses and resumes from the page: the database changes, the section comes back in place', async () => {
    const pause = await post('/workflows/nightly/schedules/pause', undefined, htmx('schedules'));
    expect(pause.res.status).toBe(200);
    expect(pause.body).toMatch(/^<section class="section" id="schedules" data-paused="true">/);
    expect(pause.body).toContain('data-schedule-state="paused"');
    expect(pause.body).toContain('Schedules are paused.');
    expect(pause.body).toContain('none while paused');
    expect(pause.body).not.toContain('datetime=');
    expect(pause.body).toContain('data-command="resume"');
    expect(await paused()).toBe(true);

    // Paused shows on both pages, as an icon and a word, with no next times.
    const page = await get('/workflows/nightly');
    expect(page.body).toContain('<span class="status-icon" aria-hidden="true">‖</span>paused');
    const overview = await get('/');
    const cell = overview.body.slice(overview.body.indexOf('data-workflow="nightly"'));
    expect(cell.slice(0, cell.indexOf('</tr>'))).toContain('data-schedule-state="paused"');
    expect(cell.slice(0, cell.indexOf('</tr>'))).not.toContain('<time');

    // Without htmx: a plain form post, then back to the page.
    const resume = await post('/workflows/nightly/schedules/resume');
    expect(resume.res.status).toBe(303);
    expect(resume.res.headers.get('location')).toBe('/workflows/nightly#schedules');
    expect(await paused()).toBe(false);
    expect((await get('/workflows/nightly')).body).toContain('data-schedule-state="active"');
  });

  it('answers a bad pause or resume with an error fragment in #flash', async () => {
    const unknown = await post('/workflows/nope/schedules/pause', undefined, htmx('schedules'));
    expect(unknown.res.status).toBe(404);
    expect(unknown.res.headers.get('hx-retarget')).toBe('#flash');
    expect(unknown.body).toMatch(/^<div class="alert alert-error" role="alert" data-code="not_found">/);
    expect(unknown.body).toContain('no workflow named &quot;nope&quot;');
    const plain = await post('/workflows/greet/schedules/resume', undefined, htmx('schedules'));
    expect(plain.res.status).toBe(409);
    expect(plain.body).toContain('has no on.schedule to resume');
  });

  it("shows the poller's interval, last poll, failures, masked last error and lease", async () => {
    ctx.registry.setFile(
      'feed.yaml',
      `name: feed
on:
  poll:
    action: http.request
    inputs: { url: "https://example.com/items" }
    interval: 30s
    items: output.body.items
tasks:
  a: { action: test.step, inputs: { label: a } }
`,
    );
    expect((await get('/workflows/feed')).body).toContain('No instance has polled yet.');
    await ctx.store.db.insert(pollers).values({
      workflow: 'feed',
      primed: true,
      failures: 2,
      lastError: `http.request: 503 from a host with ${SECRET}`,
      lastPolledAt: new Date(Date.now() - 10_000),
      nextPollAt: new Date(Date.now() + 20_000),
      leaseOwner: 'instance-a',
      leaseExpiresAt: new Date(Date.now() + 60_000),
    });
    const { body } = await get('/workflows/feed');
    expect(body).toContain('<section class="section" id="poller">');
    expect(body).toContain('<code>http.request</code> every 30 s');
    expect(body).toContain('data-poll-state="failing"');
    expect(body).toContain('poll failing (2)');
    expect(body).toContain('<dd data-failures="2">2 in a row</dd>');
    expect(body).toContain('http.request: 503 from a host with ***');
    expect(body).toContain('<dd data-leased="true">held by an instance</dd>');
    expect(body).not.toContain(SECRET);
    // The overview flags the failing poller in the workflow's row, masked as well.
    const overview = await get('/');
    const row = overview.body.slice(overview.body.indexOf('data-workflow="feed"'));
    expect(row.slice(0, row.indexOf('</tr>'))).toContain('poll failing (2)');
    expect(overview.body).not.toContain(SECRET);
  });
});

describe('runs page', () => {
  it('filters by workflow, status, trigger and time, keeping the filters in the URL', async () => {
    const failed = await seedRun(ctx.store.db, greet, 'failed');
    const ok = await seedRun(ctx.store.db, greet, 'succeeded');
    const { body } = await get('/runs?status=failed&workflow=greet&range=24h');
    expect(body).toContain(`id="run-${failed}"`);
    expect(body).not.toContain(`id="run-${ok}"`);
    expect(body).toContain('<option value="failed" selected="">');

    const fragment = await get('/runs?workflow=greet&status=succeeded&trigger=&from=', htmx('runs-results'));
    expect(fragment.res.headers.get('hx-push-url')).toBe('/runs?workflow=greet&status=succeeded');
    expect(fragment.body).toMatch(/^<div id="runs-results">/);
    expect(fragment.body).toContain(`id="run-${ok}"`);
    expect(fragment.body).not.toContain(`id="run-${failed}"`);

    const old = await get('/runs?workflow=greet&to=2001-01-01');
    expect(old.body).toContain('No runs match these filters.');
    const bad = await get('/runs?status=exploded');
    expect(bad.res.status).toBe(422);
    expect(bad.body).toContain('filter &quot;status&quot; must be one of');
  });

  it('pages with a cursor: the next page comes as rows plus the next "load more" row', async () => {
    const wf = { ...greet, name: 'paged' };
    for (let i = 0; i < 53; i++)
      await seedRun(ctx.store.db, wf, 'succeeded', [], new Date(Date.now() - i * 1000));
    const first = await get('/runs?workflow=paged');
    expect(first.body.match(/<tr id="run-/g)).toHaveLength(50);
    const next = /hx-get="(\/runs\?workflow=paged&amp;cursor=[^"]+)"/
      .exec(first.body)?.[1]
      ?.replaceAll('&amp;', '&');
    expect(next).toBeDefined();
    const more = await get(next as string, htmx());
    expect(more.body).toMatch(/^<tr id="run-/);
    expect(more.body.match(/<tr id="run-/g)).toHaveLength(3);
    expect(more.body).not.toContain('Load more');
  });

  it('rows of runs still going poll themselves; finished rows do not', async () => {
    const running = await seedRun(ctx.store.db, greet, 'running');
    const live = await get(`/runs/${running}/row`, htmx());
    expect(live.body).toMatch(/^<tr id="run-[^"]+" class="live"/);
    expect(live.body).toContain('hx-trigger="every 2s"');
    await ctx.store.db
      .update(runs)
      .set({ status: 'succeeded', finishedAt: new Date() })
      .where(eq(runs.id, running));
    const done = await get(`/runs/${running}/row`, htmx());
    expect(done.body).not.toContain('hx-trigger');
    expect(done.body).toContain('succeeded');
  });
});

describe('run page', () => {
  it('shows the graph coloured by status, the timeline, each attempt with input, output, error and logs; secrets masked', async () => {
    const id = await seedRun(ctx.store.db, greet, 'failed', [
      {
        taskId: 'hello',
        status: 'succeeded',
        input: { label: 'hi' },
        output: { doubled: 'hihi' },
        logs: ['said hi'],
      },
      {
        taskId: 'bye',
        status: 'failed',
        startOffsetMs: 200,
        input: { token: SECRET },
        error: { code: 'action', message: `could not reach the host with ${SECRET}` },
        logs: [`using ${SECRET}`],
      },
    ]);
    const { res, body } = await get(`/runs/${id}`);
    expect(res.status).toBe(200);
    expect(body).toContain('class="dag-node st-succeeded" data-task="hello"');
    expect(body).toContain('class="dag-node st-failed" data-task="bye"');
    expect(body).toContain('class="tl-bar st-failed"');
    expect(body).toContain('&quot;doubled&quot;: &quot;hihi&quot;');
    expect(body).toContain('said hi');
    expect(body).toContain('could not reach the host with ***');
    expect(body).not.toContain(SECRET);
    expect(body).toContain('data-command="retry-from-failed"');
    expect(body).not.toContain('data-command="cancel"');
    // Finished: the live part has no trigger, so nothing polls.
    expect(body).not.toContain('hx-trigger="every 1s"');
  });

  it('masks the base64 and URL-encoded forms of secrets on the run page', async () => {
    const b64 = Buffer.from(`user:${SECRET}`).toString('base64');
    const id = await seedRun(ctx.store.db, greet, 'failed', [
      {
        taskId: 'hello',
        status: 'failed',
        input: { header: `Basic ${b64}` },
        output: { url: `https://x.test/?t=${encodeURIComponent(SECRET)}` },
        error: { code: 'action', message: `refused ${Buffer.from(SECRET).toString('base64')}` },
        logs: [`query t=${encodeURIComponent(SECRET)}`],
      },
    ]);
    const { body } = await get(`/runs/${id}`);
    expect(body).toContain('refused ***');
    expect(body).toContain('query t=***');
    expect(body).not.toContain(Buffer.from(SECRET).toString('base64').slice(0, 16));
    expect(body).not.toContain(b64);
  });

  it('polls its live part while the run goes; cancel answers the new live part', async () => {
    const id = await seedRun(ctx.store.db, greet, 'queued');
    const { body } = await get(`/runs/${id}`);
    expect(body).toContain(`hx-get="/runs/${id}/live" hx-trigger="every 1s"`);
    expect(body).toContain('data-command="cancel"');
    const live = await get(`/runs/${id}/live`, htmx());
    expect(live.body).toMatch(/^<div id="run-live"/);
    const cancelled = await post(`/runs/${id}/cancel`, undefined, htmx('run-live'));
    expect(cancelled.res.status).toBe(200);
    expect(cancelled.body).toContain('data-status="cancelled"');
    expect(cancelled.body).not.toContain('hx-trigger');
    // Cancelling again: a 409 fragment in #flash, leaving the live part alone.
    const again = await post(`/runs/${id}/cancel`, undefined, htmx('run-live'));
    expect(again.res.status).toBe(409);
    expect(again.res.headers.get('hx-retarget')).toBe('#flash');
    expect(again.body).toContain('nothing to cancel');
  });

  it('retry and retry-from-failed start a new run and send the browser there', async () => {
    const id = await seedRun(ctx.store.db, greet, 'failed', [{ taskId: 'hello', status: 'succeeded' }]);
    const retry = await post(`/runs/${id}/retry-from-failed`, undefined, htmx('run-live'));
    const next = retry.res.headers.get('hx-redirect') ?? '';
    expect(next).toMatch(/^\/runs\//);
    expect((await getRun(ctx.store.db, next.slice(6)))?.parentRunId).toBe(id);
    const plain = await post(`/runs/${id}/retry`);
    expect(plain.res.status).toBe(303);
    expect(await get('/runs/not-a-uuid').then((r) => r.res.status)).toBe(404);
  });
});

describe('playground', () => {
  it('checks YAML as you type: a cycle is a problem with its line, drawn in red', async () => {
    const page = await get('/playground');
    expect(page.body).toContain('<textarea id="yaml"');
    expect(page.body).toContain('hx-post="/playground/check"');
    const yaml =
      'tasks:\n  a:\n    run: echo a\n    depends_on: [b]\n  b:\n    run: echo b\n    depends_on: [a]\n';
    const { res, body } = await post('/playground/check', form({ yaml }), htmx('playground-result'));
    expect(res.status).toBe(200);
    expect(body).toContain('cycle in depends_on');
    expect(body).toMatch(/<code class="where">line \d+:\d+<\/code>/);
    expect(body).toContain('dag-edge-cycle');
    const fromFile = await get('/playground?workflow=greet');
    expect(fromFile.body).toContain('Whom to greet');
  });

  it('offers the YAML as a download named after the workflow', async () => {
    const { res, body } = await post('/playground/download', form({ yaml: GREET }));
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="greet.yaml"');
    expect(body).toBe(GREET);
  });
});

describe('static files and unknown pages', () => {
  it('serves htmx and the stylesheet with a year of cache; an unknown page is an HTML 404, an unknown API path JSON', async () => {
    const res = await ctx.web.request(assets().css.url);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toContain('immutable');
    expect((await ctx.web.request('/static/htmx-000000000000.js')).status).toBe(404);
    const page = await get('/no/such/page');
    expect(page.res.status).toBe(404);
    expect(page.body).toContain('<!doctype html>');
    const api = await ctx.web.request('/api/nope', { headers: html });
    expect(((await api.json()) as { error: { code: string } }).error.code).toBe('not_found');
  });
});

describe('with API tokens', () => {
  let authed: Ctx;
  const TOKEN = 'page-token-0123456789';
  beforeAll(async () => {
    authed = await createPagesContext({ BATON_API_TOKENS: TOKEN });
  });
  afterAll(async () => {
    await authed?.cleanup();
  });

  it('sends a browser to the login form, htmx to it by HX-Redirect, and API clients a JSON 401', async () => {
    const page = await authed.web.request('/runs?status=failed', { headers: html });
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/login?next=%2Fruns%3Fstatus%3Dfailed');
    const fragment = await authed.web.request('/runs', {
      headers: { ...htmx(), 'HX-Current-URL': 'http://x/runs' },
    });
    expect(fragment.status).toBe(401);
    expect(fragment.headers.get('hx-redirect')).toBe('/login?next=%2Fruns');
    const css = await authed.web.request(assets().css.url);
    expect(css.status).toBe(401);
    const form = await authed.web.request('/login', { headers: html });
    expect(await form.text()).toContain('API token');
  });

  it('serves pages to a logged-in browser and refuses its cross-site writes', async () => {
    const login = await authed.web.request('/login', {
      method: 'POST',
      body: new URLSearchParams({ token: TOKEN, next: '/' }),
      headers: { 'Sec-Fetch-Site': 'same-origin' },
    });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] as string;
    expect(cookie).toMatch(/^baton_session=/);
    const page = await authed.web.request('/', { headers: { ...html, Cookie: cookie } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Log out');
    const cross = await authed.web.request('/playground/check', {
      method: 'POST',
      body: new URLSearchParams({ yaml: 'tasks: {}' }),
      headers: { Cookie: cookie, 'Sec-Fetch-Site': 'cross-site', Origin: 'https://evil.example' },
    });
    expect(cross.status).toBe(403);
    const pause = await authed.web.request('/workflows/nightly/schedules/pause', {
      method: 'POST',
      headers: { Cookie: cookie, 'Sec-Fetch-Site': 'cross-site', Origin: 'https://evil.example' },
    });
    expect(pause.status).toBe(403);
  });
});
