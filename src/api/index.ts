import { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { registerActionRoutes } from './actions.ts';
import { registerConnectionRoutes } from './connections.ts';
import type { ApiDeps } from './deps.ts';
import { registerDocsPage } from './docs-page.ts';
import { errorHandler, errorResponse, notFoundHandler, validationHook } from './errors.ts';
import { registerHealthRoutes } from './health.ts';
import { buildDocument, type OpenApiExtra } from './openapi.ts';
import { registerRunCommandRoutes } from './run-commands.ts';
import { registerRunRoutes } from './runs.ts';
import { redactResponses, registerSecretRoutes } from './secrets.ts';
import { registerValidateRoutes } from './validate.ts';
import { registerWorkflowRoutes } from './workflows.ts';

export type { ApiDeps } from './deps.ts';
export { errorBody, errorHandler, notFoundHandler, STATUS_OF_CODE, validationHook } from './errors.ts';
export type { OpenApiExtra, WebhookOperation } from './openapi.ts';

export const OPENAPI_PATH = '/api/openapi.json';

/**
 * The JSON API (everything under /api, plus /healthz and /readyz), to mount at the root.
 * Errors, including failed request validation, answer `{ error: { code, message, details } }`.
 * `extra.webhookOperations` adds the webhooks to /api/openapi.json.
 */
export function apiRoutes(deps: ApiDeps, extra: OpenApiExtra = {}): OpenAPIHono {
  const app = new OpenAPIHono({ defaultHook: validationHook });
  app.onError(errorHandler);
  app.notFound(notFoundHandler);
  app.use(
    '/api/*',
    bodyLimit({
      maxSize: deps.config.bodyLimitBytes,
      onError: (c) =>
        errorResponse(
          c,
          413,
          'validation',
          `the request body is larger than the limit of ${deps.config.bodyLimitBytes} bytes (BATON_BODY_LIMIT)`,
          { limit: deps.config.bodyLimitBytes },
        ),
    }),
  );

  app.use('/api/*', redactResponses(deps));

  registerHealthRoutes(app, deps);
  registerWorkflowRoutes(app, deps);
  registerRunRoutes(app, deps);
  registerRunCommandRoutes(app, deps);
  registerActionRoutes(app, deps);
  registerValidateRoutes(app, deps);
  registerSecretRoutes(app, deps);
  registerConnectionRoutes(app, deps);
  registerDocsPage(app);
  app.get(OPENAPI_PATH, (c) => c.json(buildDocument(app, deps, extra)));
  return app;
}

/** The OpenAPI 3.1 document of the API (and the webhooks, when given), as /api/openapi.json serves it. */
export function openApiDocument(deps: ApiDeps, extra: OpenApiExtra = {}) {
  return buildDocument(apiRoutes(deps, extra), deps, extra);
}
