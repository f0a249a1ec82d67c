/** @jsxImportSource hono/jsx */
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { STATUS_OF_CODE } from '../src/api/errors.ts';
import { cancelRun, retryRun } from '../src/api/run-commands.ts';
import { runOr404 } from '../src/api/runs.ts';
import { setSchedulesPaused } from '../src/api/schedule-commands.ts';
import { findEntry, sourceOf } from '../src/api/workflow-view.ts';
import { BatonError, ConflictError, coerceError, NotFoundError, ValidationError } from '../src/errors.ts';
import { registerAssets } from './assets.ts';
import { ErrorFragment } from './components/problems.tsx';
import { RunRowView } from './components/runs-table.tsx';
import { SchedulesSection } from './components/schedules.tsx';
import { registerConnectionPages } from './connection-routes.tsx';
import { loadOverview, OverviewPage } from './pages/overview.tsx';
import { CheckView, checkYaml, EXAMPLE, PlaygroundPage } from './pages/playground.tsx';
import { loadRun, RunLive, RunPage } from './pages/run.tsx';
import { loadRuns, parseRunsQuery, RunRows, RunsPage, RunsResults, runsUrl } from './pages/runs.tsx';
import { loadSummary, loadWorkflow, WorkflowPage } from './pages/workflow.tsx';
import {
  type PageDeps,
  redactorFor,
  renderFragment,
  renderPage,
  runHref,
  wantsFragment,
  workflowHref,
} from './render.tsx';
import { inputsFromForm } from './run-form-values.ts';

export type { PageDeps } from './render.tsx';

/** Most a playground text may be; a workflow file is a few kilobytes. */
const PLAYGROUND_LIMIT = 256 * 1024;

/**
 * The run-history pages: Hono JSX rendered on the server, htmx for the parts that change in
 * place. Mount after the API, behind the same token check (applyHttpDefaults); writes are POSTs,
 * so the login cookie's SameSite=Lax and the Sec-Fetch-Site check keep other sites out.
 */
export function pageRoutes(deps: PageDeps): Hono {
  const app = new Hono();
  app.onError((err, c) => errorPage(c, deps, err));
  registerAssets(app);
  const forms = bodyLimit({
    maxSize: Math.max(deps.config.bodyLimitBytes, PLAYGROUND_LIMIT),
    onError: () => {
      throw new ValidationError('the form is larger than the body limit (BATON_BODY_LIMIT)');
    },
  });

  app.get('/', async (c) =>
    renderPage(
      c,
      deps,
      { title: 'Overview', section: 'overview' },
      <OverviewPage data={await loadOverview(deps)} />,
    ),
  );

  app.get('/workflows/:name{.+}', async (c) => {
    const data = await loadWorkflow(deps, c.req.param('name'));
    return renderPage(
      c,
      deps,
      { title: data.summary.name, section: 'overview' },
      <WorkflowPage data={data} />,
    );
  });

  app.post('/workflows/:name{.+}/runs', forms, async (c) => {
    const name = c.req.param('name');
    const entry = findEntry(deps, name);
    if (!entry) throw new NotFoundError(`no workflow named "${name}"`);
    if (!entry.workflow || entry.problems.length > 0) {
      throw new ConflictError(`workflow "${name}" has problems in its file; fix them before starting runs`);
    }
    const inputs = inputsFromForm(
      entry.workflow.triggers.manual?.inputs,
      await c.req.parseBody({ all: true }),
    );
    const { run } = await deps.startRun(entry.name, { trigger: { type: 'manual', inputs } });
    return goTo(c, runHref(run.id), <p class="muted">Started run {run.id}…</p>);
  });

  for (const command of ['pause', 'resume'] as const) {
    app.post(`/workflows/:name{.+}/schedules/${command}`, async (c) => {
      const { workflow } = await setSchedulesPaused(deps, c.req.param('name'), command === 'pause');
      if (!wantsFragment(c)) return c.redirect(`${workflowHref(workflow)}#schedules`, 303);
      const entry = findEntry(deps, workflow);
      if (!entry) throw new NotFoundError(`no workflow named "${workflow}"`);
      const { summary, now } = await loadSummary(deps, entry);
      return renderFragment(c, <SchedulesSection summary={summary} now={now} />);
    });
  }

  app.get('/runs', async (c) => {
    const query = parseRunsQuery(c.req.query());
    const data = await loadRuns(deps, query);
    if (wantsFragment(c) && query.cursor) return renderFragment(c, <RunRows data={data} />);
    if (wantsFragment(c) && c.req.header('hx-target') === 'runs-results') {
      // The filters changed: the address follows, without empty parameters.
      c.header('HX-Push-Url', runsUrl(query));
      return renderFragment(c, <RunsResults data={data} />);
    }
    return renderPage(c, deps, { title: 'Runs', section: 'runs' }, <RunsPage data={data} />);
  });

  app.get('/runs/:id', async (c) => {
    const data = await loadRun(deps, c.req.param('id'), await redactorFor(deps));
    return renderPage(
      c,
      deps,
      { title: `Run of ${data.run.workflow}`, section: 'runs' },
      <RunPage data={data} />,
    );
  });

  app.get('/runs/:id/live', async (c) => {
    const data = await loadRun(deps, c.req.param('id'), await redactorFor(deps));
    return renderFragment(c, <RunLive data={data} />);
  });

  app.get('/runs/:id/row', async (c) => {
    // Polled every 2 s per live row: the run row only, no tasks or logs.
    const run = await runOr404(deps, c.req.param('id'));
    return renderFragment(
      c,
      <RunRowView run={run} now={new Date()} showWorkflow={c.req.query('workflow') !== '0'} />,
    );
  });

  app.post('/runs/:id/cancel', async (c) => {
    const id = c.req.param('id');
    await cancelRun(deps, id);
    if (!wantsFragment(c)) return c.redirect(runHref(id), 303);
    return renderFragment(c, <RunLive data={await loadRun(deps, id, await redactorFor(deps))} />);
  });

  for (const command of ['retry', 'retry-from-failed'] as const) {
    app.post(`/runs/:id/${command}`, async (c) => {
      const { run } = await retryRun(deps, c.req.param('id'), {
        fromFailed: command === 'retry-from-failed',
      });
      return goTo(c, runHref(run.id), <p class="muted">Started run {run.id}…</p>);
    });
  }

  registerConnectionPages(app, deps, forms);

  app.get('/playground', async (c) => {
    const from = c.req.query('workflow');
    const entry = from ? findEntry(deps, from) : undefined;
    if (from && !entry) throw new NotFoundError(`no workflow named "${from}"`);
    const text = entry ? ((await sourceOf(entry)) ?? '') : EXAMPLE;
    const result = checkYaml(text, deps.registry.catalogue());
    return renderPage(
      c,
      deps,
      { title: 'Playground', section: 'playground' },
      <PlaygroundPage text={text} result={result} {...(entry ? { from: entry.name } : {})} />,
    );
  });

  app.post('/playground/check', forms, async (c) => {
    const text = yamlOf(await c.req.parseBody());
    return renderFragment(c, <CheckView result={checkYaml(text, deps.registry.catalogue())} />);
  });

  app.post('/playground/download', forms, async (c) => {
    const text = yamlOf(await c.req.parseBody());
    const name = checkYaml(text, deps.registry.catalogue()).name ?? 'workflow';
    const file = `${name.replace(/[^\w.-]+/g, '-').replace(/^[.-]+/, '') || 'workflow'}.yaml`;
    c.header('Content-Type', 'application/yaml; charset=utf-8');
    c.header('Content-Disposition', `attachment; filename="${file}"`);
    c.header('Cache-Control', 'no-store');
    return c.body(text);
  });

  return app;
}

function yamlOf(form: Record<string, string | File>): string {
  const text = form.yaml;
  if (typeof text !== 'string') throw new ValidationError('send the workflow as the form field "yaml"');
  return text;
}

/** After a POST: htmx follows HX-Redirect; a plain form gets 303 See Other. */
function goTo(c: Context, url: string, body: Parameters<typeof renderFragment>[1]) {
  if (!wantsFragment(c)) return c.redirect(url, 303);
  c.header('HX-Redirect', url);
  return renderFragment(c, body);
}

/**
 * Errors as HTML: a whole page for a browser's request, a fragment for htmx. A fragment goes where
 * the request's own result area is (a target whose id ends in `-result`), else to the page's
 * #flash, so a failed poll or button never replaces the content it belongs to.
 */
export function errorPage(c: Context, deps: PageDeps, err: unknown): Response | Promise<Response> {
  let status: ContentfulStatusCode;
  let code: string;
  let message: string;
  if (err instanceof HTTPException) {
    status = err.status as ContentfulStatusCode;
    code = status === 404 ? 'not_found' : status >= 500 ? 'internal' : 'validation';
    message = err.message || `HTTP ${status}`;
  } else {
    const e = coerceError(err);
    if (e.code === 'internal' || e.code === 'action' || !(err instanceof BatonError)) {
      console.error(`[pages] ${c.req.method} ${c.req.path} failed:`, err);
      status = 500;
      code = 'internal';
      message = 'the page could not be made (details are in the server log)';
    } else {
      status = STATUS_OF_CODE[e.code];
      code = e.code;
      message = e.message;
    }
  }
  const fragment = <ErrorFragment status={status} code={code} message={message} />;
  if (wantsFragment(c)) {
    if (!(c.req.header('hx-target') ?? '').endsWith('-result')) {
      c.header('HX-Retarget', '#flash');
      c.header('HX-Reswap', 'innerHTML');
    }
    return renderFragment(c, fragment, status);
  }
  return renderPage(
    c,
    deps,
    { title: status === 404 ? 'Not found' : 'Error', section: 'none', status },
    <div class="page-head">
      <h1>{status === 404 ? 'Not found' : 'Something is wrong'}</h1>
      {fragment}
      <p>
        <a href="/">Back to the overview</a>
      </p>
    </div>,
  );
}
