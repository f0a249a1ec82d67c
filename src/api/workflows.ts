import { createRoute, type OpenAPIHono, type RouteConfig, z } from '@hono/zod-openapi';
import { maskUserinfo } from '../config.ts';
import { ConflictError, NotFoundError } from '../errors.ts';
import { listVersions } from '../store/run-queries.ts';
import type { ApiDeps } from './deps.ts';
import { presentRun, runUrl } from './present.ts';
import { setSchedulesPaused } from './schedule-commands.ts';
import {
  errorResponses,
  GitSyncStatus,
  RunCreated,
  ScheduleState,
  WorkflowDetail,
  WorkflowSummary,
} from './schemas.ts';
import {
  definitionOf,
  findEntry,
  loadTriggerState,
  namedEntries,
  sourceOf,
  summarize,
} from './workflow-view.ts';

const NameParam = z.object({
  name: z.string().openapi({
    param: { name: 'name', in: 'path' },
    description: 'Workflow name; a name with "/" may be sent as is or URL-encoded (%2F)',
    example: 'github-issue-to-slack',
  }),
});

const listRoute = createRoute({
  method: 'get',
  path: '/api/workflows',
  tags: ['workflows'],
  operationId: 'listWorkflows',
  summary: 'List workflows, valid or not',
  responses: {
    200: {
      description: 'Every workflow file the server knows, by name',
      content: {
        'application/json': {
          schema: z.object({
            workflows: z.array(WorkflowSummary),
            git: GitSyncStatus.optional().openapi({
              description: 'Git sync status, when BATON_GIT_REMOTE is set',
            }),
          }),
        },
      },
    },
    ...errorResponses(),
  },
});

const getRoute = createRoute({
  method: 'get',
  path: '/api/workflows/{name}',
  tags: ['workflows'],
  operationId: 'getWorkflow',
  summary: 'One workflow: definition, source, problems and stored versions',
  request: { params: NameParam },
  responses: {
    200: { description: 'The workflow', content: { 'application/json': { schema: WorkflowDetail } } },
    ...errorResponses(404),
  },
});

const TriggerBody = z
  .strictObject({
    inputs: z
      .record(z.string(), z.unknown())
      .optional()
      .openapi({
        description: "Checked against the workflow's declared inputs",
        example: { repo: 'acme/api' },
      }),
  })
  .openapi('TriggerRequest');

const triggerRoute = createRoute({
  method: 'post',
  path: '/api/workflows/{name}/runs',
  tags: ['workflows'],
  operationId: 'startRun',
  summary: 'Start a run of the current version',
  request: {
    params: NameParam,
    headers: z.object({
      'idempotency-key': z
        .string()
        .min(1)
        .max(255)
        .optional()
        .openapi({
          param: { name: 'idempotency-key', in: 'header' },
          description: 'A repeated key returns the run the first request started (200) instead of a new one',
        }),
    }),
    body: { required: false, content: { 'application/json': { schema: TriggerBody } } },
  },
  responses: {
    201: { description: 'Run created and queued', content: { 'application/json': { schema: RunCreated } } },
    200: {
      description: 'The run an earlier request with the same Idempotency-Key started',
      content: { 'application/json': { schema: RunCreated } },
    },
    ...errorResponses(400, 404, 409, 413, 415, 422),
  },
});

const scheduleRoute = (action: 'pause' | 'resume') =>
  createRoute({
    method: 'post',
    path: `/api/workflows/{name}/schedules/${action}`,
    tags: ['workflows'],
    operationId: `${action}Schedules`,
    summary:
      action === 'pause'
        ? "Pause the workflow's schedules (no file change; survives restarts)"
        : "Resume the workflow's schedules; times passed while paused are not caught up",
    request: { params: NameParam },
    responses: {
      200: {
        description: action === 'pause' ? 'Paused (or already paused)' : 'Running again (or never paused)',
        content: { 'application/json': { schema: ScheduleState } },
      },
      ...errorResponses(404, 409),
    },
  });
const pauseRoute = scheduleRoute('pause');
const resumeRoute = scheduleRoute('resume');

/** The same route, routed (not documented) with a name that may contain unencoded "/". */
function slashyTwin<R extends RouteConfig>(route: R): R {
  return { ...route, path: route.path.replace('{name}', '{name{.+}}'), hide: true };
}

/** The sync status shown by the API and the overview page; undefined without git sync. */
export function gitStatusOf(deps: ApiDeps): z.infer<typeof GitSyncStatus> | undefined {
  if (!deps.gitSync || !deps.config.git) return undefined;
  return {
    remote: maskUserinfo(deps.config.git.remote),
    branch: deps.config.git.branch,
    ...deps.gitSync.status(),
  };
}

export function registerWorkflowRoutes(app: OpenAPIHono, deps: ApiDeps): void {
  app.openapi(listRoute, async (c) => {
    const now = new Date();
    const state = await loadTriggerState(deps.db);
    const workflows = namedEntries(deps).map((e) => summarize(deps, e, now, state));
    const git = gitStatusOf(deps);
    return c.json(git ? { workflows, git } : { workflows }, 200);
  });

  const getHandler = async (name: string) => {
    const entry = findEntry(deps, name);
    if (!entry) throw new NotFoundError(`no workflow named "${name}"`);
    const summary = summarize(deps, entry, new Date(), await loadTriggerState(deps.db));
    const versions = await listVersions(deps.db, name);
    return {
      ...summary,
      definition: definitionOf(entry.workflow),
      source: await sourceOf(entry),
      versions: versions.map((v) => ({
        id: v.id,
        hash: v.hash,
        created_at: v.createdAt.toISOString(),
        git_commit: v.gitCommit,
        current: v.hash === summary.version,
      })),
    };
  };
  app.openapi(getRoute, async (c) => c.json(await getHandler(c.req.valid('param').name), 200));
  app.openapi(slashyTwin(getRoute), async (c) => c.json(await getHandler(c.req.valid('param').name), 200));

  const triggerHandler = async (name: string, inputs: Record<string, unknown> | undefined, key?: string) => {
    const entry = findEntry(deps, name);
    if (!entry) throw new NotFoundError(`no workflow named "${name}"`);
    if (entry.problems.length > 0 || !entry.workflow) {
      throw new ConflictError(`workflow "${name}" has problems in its file; fix them before starting runs`, {
        details: { problems: summarize(deps, entry).problems },
      });
    }
    const { run, created } = await deps.startRun(name, {
      trigger: { type: 'api', inputs: inputs ?? {} },
      ...(key ? { idempotencyKey: key } : {}),
    });
    return { body: { run: presentRun(run), url: runUrl(run.id) }, created };
  };
  const trigger: Parameters<typeof app.openapi<typeof triggerRoute>>[1] = async (c) => {
    const { body, created } = await triggerHandler(
      c.req.valid('param').name,
      c.req.valid('json').inputs,
      c.req.valid('header')['idempotency-key'],
    );
    c.header('Location', body.url);
    return created ? c.json(body, 201) : c.json(body, 200);
  };
  app.openapi(triggerRoute, trigger);
  app.openapi(slashyTwin(triggerRoute), trigger as never);

  for (const [route, pause] of [
    [pauseRoute, true],
    [resumeRoute, false],
  ] as const) {
    const handler: Parameters<typeof app.openapi<typeof route>>[1] = async (c) =>
      c.json(await setSchedulesPaused(deps, c.req.valid('param').name, pause), 200);
    app.openapi(route, handler);
    app.openapi(slashyTwin(route), handler as never);
  }
}
