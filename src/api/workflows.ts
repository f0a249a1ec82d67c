import { createRoute, type OpenAPIHono, type RouteConfig, z } from '@hono/zod-openapi';
import { ConflictError, NotFoundError } from '../errors.ts';
import { listVersions } from '../store/run-queries.ts';
import type { ApiDeps } from './deps.ts';
import { presentRun, runUrl } from './present.ts';
import { errorResponses, RunCreated, WorkflowDetail, WorkflowSummary } from './schemas.ts';
import { definitionOf, findEntry, namedEntries, sourceOf, summarize } from './workflow-view.ts';

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
      content: { 'application/json': { schema: z.object({ workflows: z.array(WorkflowSummary) }) } },
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

/** The same route, routed (not documented) with a name that may contain unencoded "/". */
function slashyTwin<R extends RouteConfig>(route: R): R {
  return { ...route, path: route.path.replace('{name}', '{name{.+}}'), hide: true };
}

export function registerWorkflowRoutes(app: OpenAPIHono, deps: ApiDeps): void {
  app.openapi(listRoute, (c) => {
    const now = new Date();
    return c.json({ workflows: namedEntries(deps).map((e) => summarize(deps, e, now)) }, 200);
  });

  const getHandler = async (name: string) => {
    const entry = findEntry(deps, name);
    if (!entry) throw new NotFoundError(`no workflow named "${name}"`);
    const summary = summarize(deps, entry);
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
}
