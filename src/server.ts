import { Hono } from 'hono';
import { webhookOperations, webhookRoutes } from './api/hooks.ts';
import { apiRoutes, errorHandler, notFoundHandler } from './api/index.ts';
import { applyHttpDefaults } from './http/defaults.ts';
import { fromGatewayOutcome } from './metrics/metrics.ts';
import type { Runtime } from './runtime.ts';

/**
 * The HTTP front door: request log, secure headers, CORS and the token check first, then
 * /metrics, the webhooks (their signatures are their access control) and the JSON API.
 */
export function createApp(runtime: Runtime): Hono {
  const app = applyHttpDefaults(new Hono(), { config: runtime.config, logger: runtime.logger });
  app.onError(errorHandler);
  app.notFound(notFoundHandler);
  app.get('/metrics', runtime.metrics.handler);
  app.route(
    '/',
    webhookRoutes(runtime, {
      onOutcome: (outcome) => {
        runtime.metrics.recordWebhook(outcome.workflow ?? '', fromGatewayOutcome(outcome.outcome));
        runtime.logger.info({ webhook: outcome }, 'webhook');
      },
    }),
  );
  app.route('/', apiRoutes(runtime, { webhookOperations: () => webhookOperations(runtime.registry) }));
  return app;
}
