import type { Context, MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import { matchToken, SESSION_COOKIE, SessionSigner, safeNext } from './session.ts';

export { loginRoutes } from './login.ts';
export { SESSION_COOKIE } from './session.ts';

/**
 * What stays reachable without a token when tokens are configured: webhooks (they verify their
 * own signatures), health checks for load balancers and orchestrators, and the login form itself.
 * Everything else, `/metrics` included, needs a token: a new route is closed unless listed here.
 */
export function isOpenPath(path: string): boolean {
  return (
    path === '/healthz' ||
    path === '/readyz' ||
    path === '/login' ||
    path === '/logout' ||
    path.startsWith('/hooks/')
  );
}

export interface RequireTokenOptions {
  /** `config.apiTokens`; empty: everything passes (Baton then listens on 127.0.0.1 only). */
  tokens: readonly string[];
  cookieName?: string;
  /** Paths that need no token; default {@link isOpenPath}. */
  isOpen?: (path: string) => boolean;
  /**
   * Origins (`config.corsOrigins`) whose cookie-authenticated writes are accepted when the browser
   * says the request comes from another site; any other cross-site write with a cookie gets 403.
   */
  trustedOrigins?: readonly string[];
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Guards the API and pages. Accepts `Authorization: Bearer <token>` (compared in constant time
 * against every configured token) or a login cookie from {@link loginRoutes}. A request without
 * either gets 401 JSON under /api and elsewhere unless it is a browser asking for a page, which
 * is redirected to `/login?next=<where it wanted to go>` (htmx requests get `HX-Redirect`).
 */
export function requireToken(options: RequireTokenOptions): MiddlewareHandler {
  const { tokens, cookieName = SESSION_COOKIE, isOpen = isOpenPath } = options;
  const signer = new SessionSigner(tokens);
  const trusted = new Set(options.trustedOrigins ?? []);

  return async function requireToken(c, next) {
    if (tokens.length === 0 || isOpen(c.req.path)) return next();

    // Only the Bearer scheme is ours: a proxy's Basic auth in front of Baton falls through to the cookie.
    const bearer = /^Bearer +(\S+) *$/i.exec(c.req.header('authorization') ?? '');
    if (bearer) {
      if (matchToken(tokens, bearer[1] ?? '') >= 0) return next();
      return deny(c, 'the bearer token is not valid');
    }

    if (signer.verify(getCookie(c, cookieName))) {
      if (!SAFE_METHODS.has(c.req.method) && !sameSiteOrTrusted(c, trusted)) {
        return c.json(
          {
            error: {
              code: 'unauthorized',
              message: 'a request from another site cannot use the login cookie to change anything',
            },
          },
          403,
        );
      }
      return next();
    }
    return deny(c, 'this needs an API token: send Authorization: Bearer <token>, or log in at /login');
  };
}

/**
 * SameSite=Lax already keeps the cookie off cross-site posts; this also refuses writes from a
 * sibling subdomain (`same-site`), which Lax lets through. A browser too old to send
 * Sec-Fetch-Site still sends Origin on a POST: it must name this host (or a trusted origin).
 * A request with neither header is not a browser's cross-site form and passes.
 */
function sameSiteOrTrusted(c: Context, trusted: ReadonlySet<string>): boolean {
  const site = c.req.header('sec-fetch-site');
  const origin = c.req.header('origin');
  if (site === 'cross-site' || site === 'same-site') return origin !== undefined && trusted.has(origin);
  if (site !== undefined || origin === undefined) return true;
  if (trusted.has(origin)) return true;
  try {
    return new URL(origin).host === c.req.header('host');
  } catch {
    return false; // `Origin: null` (a sandboxed frame, a redirect across sites)
  }
}

function deny(c: Context, message: string): Response {
  const path = c.req.path;
  const isApi = path === '/api' || path.startsWith('/api/');
  if (c.req.header('hx-request') === 'true') {
    // htmx follows HX-Redirect whatever the status, so an expired login leads back to the form.
    c.header('HX-Redirect', loginUrl(currentPage(c.req.header('hx-current-url'))));
  } else if (!isApi && (c.req.header('accept') ?? '').includes('text/html')) {
    const method = c.req.method;
    const target = method === 'GET' || method === 'HEAD' ? `${path}${queryOf(c.req.url)}` : '/';
    return c.redirect(loginUrl(target), 303);
  }
  c.header('WWW-Authenticate', 'Bearer realm="baton"');
  return c.json({ error: { code: 'unauthorized', message } }, 401);
}

function loginUrl(next: string): string {
  const safe = safeNext(next);
  return safe === '/' ? '/login' : `/login?next=${encodeURIComponent(safe)}`;
}

function currentPage(url: string | undefined): string {
  if (!url) return '/';
  try {
    const parsed = new URL(url);
    return `${parsed.pathname}${parsed.search}`;
  } catch {
    return '/';
  }
}

function queryOf(url: string): string {
  const at = url.indexOf('?');
  return at === -1 ? '' : url.slice(at);
}
