import type { Context, MiddlewareHandler } from 'hono';
import { secureHeaders as honoSecureHeaders, NONCE } from 'hono/secure-headers';

/** The policy of Baton's own pages; `nonce` stands for the per-request style nonce. */
const POLICY = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'", 'nonce'],
  imgSrc: ["'self'", 'data:'],
  connectSrc: ["'self'"],
  fontSrc: ["'self'"],
  objectSrc: ["'none'"],
  baseUri: ["'self'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
} as const;

/**
 * Hono's secure headers with a Content-Security-Policy for Baton's own pages: everything from
 * this origin only (htmx is served by Baton, no CDN), no plugins, no framing, forms post here
 * only. Inline `<style>` needs the per-request nonce (`c.get('secureHeadersNonce')`); inline
 * scripts are not allowed at all. A route that needs another policy (e.g. /api/docs) may set its
 * own Content-Security-Policy header: it is kept (`overwrite: false`).
 */
export function secureHeaders(): MiddlewareHandler {
  const contentSecurityPolicy = Object.fromEntries(
    Object.entries(POLICY).map(([key, values]) => [key, values.map((v) => (v === 'nonce' ? NONCE : v))]),
  );
  return honoSecureHeaders({
    contentSecurityPolicy,
    xFrameOptions: 'DENY',
    permissionsPolicy: { camera: [], microphone: [], geolocation: [], payment: [] },
    overwrite: false,
  });
}

/**
 * What a JSON answer (the API, webhooks, health checks, metrics) carries instead of the pages'
 * headers: nothing in it is ever rendered, so its policy lets nothing load or frame it, and there
 * is no nonce to make (and no 13 headers to set) on the paths that take the load.
 */
const MACHINE_HEADERS: readonly (readonly [string, string])[] = [
  ['Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'"],
  ['X-Content-Type-Options', 'nosniff'],
  ['X-Frame-Options', 'DENY'],
  ['Referrer-Policy', 'no-referrer'],
  ['Strict-Transport-Security', 'max-age=15552000; includeSubDomains'],
  ['Cross-Origin-Resource-Policy', 'same-origin'],
];

/** Paths that only ever answer JSON or text for programs (the API's HTML docs page is not one). */
export function isMachinePath(path: string): boolean {
  if (path.startsWith('/hooks/')) return true;
  if (path.startsWith('/api/')) return !path.startsWith('/api/docs');
  return path === '/api' || path === '/healthz' || path === '/readyz' || path === '/metrics';
}

/**
 * {@link secureHeaders} for pages, the short fixed set above for machine paths. Headers a route
 * set itself are kept, as for pages.
 */
export function secureHeadersByPath(): MiddlewareHandler {
  const pages = secureHeaders();
  return async function secureHeadersByPath(c, next) {
    if (!isMachinePath(c.req.path)) return pages(c, next);
    await next();
    const headers = c.res.headers;
    for (const [name, value] of MACHINE_HEADERS) if (!headers.has(name)) headers.set(name, value);
  };
}

/**
 * The pages' policy with more places forms may lead to: a form whose answer redirects elsewhere
 * (Connect, to an OAuth provider) is blocked by `form-action 'self'` in Chromium.
 */
export function allowFormActions(c: Context, origins: readonly string[]): void {
  const nonce = c.get('secureHeadersNonce') ?? '';
  const kebab = (key: string) => key.replace(/[A-Z]/g, (m) => `-${m.toLowerCase()}`);
  const directives = Object.entries(POLICY).map(([key, values]) => {
    const list: string[] = values.map((v) => (v === 'nonce' ? `'nonce-${nonce}'` : v));
    if (key === 'formAction') list.push(...origins);
    return `${kebab(key)} ${list.join(' ')}`;
  });
  c.header('Content-Security-Policy', directives.join('; '));
}
