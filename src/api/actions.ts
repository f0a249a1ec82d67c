import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { AnyAction } from '../plugins/define-action.ts';
import type { ApiDeps } from './deps.ts';
import { ActionInfo, ActionProblem, errorResponses } from './schemas.ts';

const route = createRoute({
  method: 'get',
  path: '/api/actions',
  tags: ['actions'],
  operationId: 'listActions',
  summary: 'The action catalogue, with JSON Schemas of inputs and outputs',
  responses: {
    200: {
      description: 'Every loaded action, and the action files that failed to load',
      content: {
        'application/json': {
          schema: z.object({ actions: z.array(ActionInfo), problems: z.array(ActionProblem) }),
        },
      },
    },
    ...errorResponses(),
  },
});

/**
 * JSON Schema of one side of a zod schema. Inputs are described as written in a workflow (before
 * defaults and transforms: `io: 'input'`), outputs as downstream templates see them. Parts JSON
 * Schema cannot express (transforms, custom checks) become `{}` rather than failing.
 */
export function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  try {
    return z.toJSONSchema(schema, { io, unrepresentable: 'any', cycles: 'ref', reused: 'inline' }) as Record<
      string,
      unknown
    >;
  } catch (err) {
    return { description: `this schema cannot be shown as JSON Schema: ${(err as Error).message}` };
  }
}

/** Converted once per loaded action object (a reload makes new objects). */
const cache = new WeakMap<AnyAction, z.infer<typeof ActionInfo>>();

export function describeAction(action: AnyAction): z.infer<typeof ActionInfo> {
  let info = cache.get(action);
  if (!info) {
    info = {
      name: action.name,
      description: action.description ?? '',
      secrets: [...(action.secrets ?? [])],
      input_schema: jsonSchemaOf(action.input, 'input'),
      output_schema: jsonSchemaOf(action.output, 'output'),
    };
    cache.set(action, info);
  }
  return info;
}

export function registerActionRoutes(app: OpenAPIHono, deps: ApiDeps): void {
  app.openapi(route, (c) => {
    const actions = [...deps.registry.catalogue().actions.values()]
      .map(describeAction)
      .sort((a, b) => a.name.localeCompare(b.name));
    const problems = deps.registry.actionProblems().map((p) => ({ file: p.file, message: p.message }));
    return c.json({ actions, problems }, 200);
  });
}
