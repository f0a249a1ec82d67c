import type { Hono } from 'hono';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import { loginRoutes, requireToken } from './auth.ts';
import { corsFor } from './cors.ts';
import { requestLog } from './request-log.ts';
import { secureHeaders } from './secure-headers.ts';

export interface HttpDefaultsOptions {
  config: Pick<Config, 'apiTokens' | 'corsOrigins' | 'cookieSecure'>;
  logger: Logger;
}

/**
 * The middleware every Baton app runs, in the order that matters; call it on a fresh app before
 * adding any route:
 * 1. request id + access log, outermost, so every answer (401s included) is logged and carries X-Request-Id;
 * 2. secure headers on every answer, redirects and errors too;
 * 3. CORS on /api/*, before the token check, since a preflight carries no credentials;
 * 4. the token check on everything except webhooks, health checks and the login form;
 * 5. GET/POST /login and POST /logout.
 */
// biome-ignore lint/suspicious/noExplicitAny: any app env, whatever its variables
export function applyHttpDefaults<A extends Hono<any>>(app: A, { config, logger }: HttpDefaultsOptions): A {
  app.use('*', requestLog({ logger }));
  app.use('*', secureHeaders());
  app.use('/api/*', corsFor(config.corsOrigins));
  app.use('*', requireToken({ tokens: config.apiTokens, trustedOrigins: config.corsOrigins }));
  app.route('/', loginRoutes({ tokens: config.apiTokens, secure: config.cookieSecure }));
  return app;
}
