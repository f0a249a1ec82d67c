import { type Context, Hono } from 'hono';
import { errorPage, pageRoutes } from '../views/index.tsx';
import { webhookOperations, webhookRoutes } from './api/hooks.ts';
import { apiRoutes, errorHandler, notFoundHandler } from './api/index.ts';
import { NotFoundError } from './errors.ts';
import { applyHttpDefaults } from './http/defaults.ts';
import { fromGatewayOutcome } from './metrics/metrics.ts';
import type { Runtime } from './runtime.ts';

/**
 * The HTTP front door: request log, secure headers, CORS and the token check first, then
 * /metrics, the webhooks (their signatures are their access control), the JSON API, and the
 * pages (views/) last.
 */
export function createApp(runtime: Runtime): Hono {
  const app = applyHttpDefaults(new Hono(), { config: runtime.config, logger: runtime.logger });
  app.onError(errorHandler);
  // A browser asking for a page that does not exist gets a page; API clients get JSON.
  app.notFound((c) =>
    wantsHtml(c) ? errorPage(c, runtime, new NotFoundError(`no page at ${c.req.path}`)) : notFoundHandler(c),
  );
  app.get('/metrics', runtime.metrics.handler);
  app.route(
    '/',
    webhookRoutes(runtime, {
      secrets: () => runtime.secretSource.all(),
      onOutcome: (outcome) => {
        runtime.metrics.recordWebhook(outcome.workflow ?? '', fromGatewayOutcome(outcome.outcome));
        runtime.logger.info({ webhook: outcome }, 'webhook');
      },
    }),
  );
  app.route('/', apiRoutes(runtime, { webhookOperations: () => webhookOperations(runtime.registry) }));
  app.route('/', pageRoutes({ ...runtime, secrets: () => runtime.secretSource.all() }));
  return app;
}

function wantsHtml(c: Context): boolean {
  if (c.req.path === '/api' || c.req.path.startsWith('/api/')) return false;
  return c.req.header('hx-request') === 'true' || (c.req.header('accept') ?? '').includes('text/html');
}
