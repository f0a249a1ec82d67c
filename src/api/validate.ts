import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { loadWorkflowText } from '../workflow/loader.ts';
import type { ApiDeps } from './deps.ts';
import { errorResponses, ValidateResult } from './schemas.ts';

const JSON_BODY = z
  .strictObject({
    yaml: z
      .string()
      .openapi({ description: 'The workflow file', example: 'tasks:\n  hello:\n    run: echo hi\n' }),
    name: z
      .string()
      .min(1)
      .optional()
      .openapi({ description: 'Its name when the file has no `name:` (also labels the problems)' }),
  })
  .openapi('ValidateRequest');

const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml', 'text/plain'];
const yamlText = { schema: z.string().openapi({ description: 'The workflow file as YAML text' }) };

const route = createRoute({
  method: 'post',
  path: '/api/validate',
  tags: ['workflows'],
  operationId: 'validateWorkflow',
  summary: 'Check a workflow file without saving it',
  description:
    'Send the YAML as the body (Content-Type: application/yaml or text/yaml, optional `?name=`) or as ' +
    'JSON `{ "yaml": "...", "name": "..." }`. Answers 200 either way; `problems` are positioned ' +
    '(line, column) like `baton validate` prints them, and actions are checked against the catalogue.',
  request: {
    query: z.object({
      name: z
        .string()
        .min(1)
        .optional()
        .openapi({ description: 'For a YAML body: as `name` in the JSON form' }),
    }),
    body: {
      // Not `required: true`: that would run the JSON validator on YAML bodies too.
      required: false,
      content: {
        'application/json': { schema: JSON_BODY },
        ...Object.fromEntries(YAML_TYPES.map((t) => [t, yamlText])),
      },
    },
  },
  responses: {
    200: { description: 'The verdict', content: { 'application/json': { schema: ValidateResult } } },
    ...errorResponses(400, 413, 415, 422),
  },
});

export function registerValidateRoutes(app: OpenAPIHono, deps: ApiDeps): void {
  app.openapi(route, async (c) => {
    const isJson = /^application\/([a-z.-]+\+)?json/i.test(c.req.header('content-type') ?? '');
    let text: string;
    let name: string | undefined;
    if (isJson) {
      const body = c.req.valid('json');
      text = body.yaml;
      name = body.name;
    } else {
      text = await c.req.text();
      name = c.req.valid('query').name;
    }
    const result = loadWorkflowText(text, {
      file: name ? `${name}.yaml` : 'workflow.yaml',
      defaultName: name ?? 'workflow',
      catalogue: deps.registry.catalogue(),
    });
    return c.json(
      { valid: result.problems.length === 0, name: result.workflow?.name ?? null, problems: result.problems },
      200,
    );
  });
}
