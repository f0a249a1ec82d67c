import type { Hono } from 'hono';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import { loginRoutes, requireToken } from './auth.ts';
import { corsFor } from './cors.ts';
import { requestLog } from './request-log.ts';
import { secureHeadersByPath } from './secure-headers.ts';

export interface HttpDefaultsOptions {
  config: Pick<Config, 'apiTokens' | 'corsOrigins' | 'cookieSecure'>;
  logger: Logger;
}

/**
 * The middleware every Baton app runs, in the order that matters; call it on a fresh app before
 * adding any route:
 * 1. request id + access log, outermost, so every answer (401s included) is logged and carries X-Request-Id;
 * 2. secure headers on every answer, redirects and errors too (a short fixed set on JSON paths);
 * 3. CORS on /api/*, before the token check, since a preflight carries no credentials (only
 *    when origins are configured);
 * 4. the token check on everything except webhooks, health checks and the login form (only when
 *    tokens are configured: without any, Baton listens on 127.0.0.1 only);
 * 5. GET/POST /login and POST /logout.
 */
// biome-ignore lint/suspicious/noExplicitAny: any app env, whatever its variables
export function applyHttpDefaults<A extends Hono<any>>(app: A, { config, logger }: HttpDefaultsOptions): A {
  app.use('*', requestLog({ logger }));
  app.use('*', secureHeadersByPath());
  // Each middleware is a turn of the event loop for every request; these do nothing unconfigured.
  if (config.corsOrigins.length > 0) app.use('/api/*', corsFor(config.corsOrigins));
  if (config.apiTokens.length > 0) {
    app.use('*', requireToken({ tokens: config.apiTokens, trustedOrigins: config.corsOrigins }));
  }
  app.route('/', loginRoutes({ tokens: config.apiTokens, secure: config.cookieSecure }));
  return app;
}
