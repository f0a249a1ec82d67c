import type { MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';

/**
 * CORS for /api/*: mount with `app.use('/api/*', corsFor(config.corsOrigins))` before the token
 * check (a preflight carries no credentials). No origins (the default): no CORS headers at all,
 * so browsers keep other sites out. Listed origins (exact `scheme://host[:port]`) may call with
 * credentials; any other origin gets no CORS headers.
 */
export function corsFor(origins: readonly string[]): MiddlewareHandler {
  if (origins.length === 0) {
    return async function noCors(_c, next) {
      await next();
    };
  }
  const allowed = new Set(origins);
  const allow = cors({
    origin: (origin) => (allowed.has(origin) ? origin : null),
    credentials: true,
    allowMethods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key', 'X-Request-Id'],
    exposeHeaders: ['X-Request-Id', 'Location', 'Retry-After'],
    maxAge: 600,
  });
  return async function corsFor(c, next) {
    const origin = c.req.header('origin');
    if (origin !== undefined && allowed.has(origin)) return allow(c, next);
    await next();
    // The answer depends on Origin, so shared caches must not hand it to an allowed origin.
    c.header('Vary', 'Origin', { append: true });
  };
}
