import type { MiddlewareHandler } from 'hono';
import { secureHeaders as honoSecureHeaders, NONCE } from 'hono/secure-headers';

/**
 * Hono's secure headers with a Content-Security-Policy for Baton's own pages: everything from
 * this origin only (htmx is served by Baton, no CDN), no plugins, no framing, forms post here
 * only. Inline `<style>` needs the per-request nonce (`c.get('secureHeadersNonce')`); inline
 * scripts are not allowed at all. A route that needs another policy (e.g. /api/docs) may set its
 * own Content-Security-Policy header: it is kept (`overwrite: false`).
 */
export function secureHeaders(): MiddlewareHandler {
  return honoSecureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'", NONCE],
      imgSrc: ["'self'", 'data:'],
      connectSrc: ["'self'"],
      fontSrc: ["'self'"],
      objectSrc: ["'none'"],
      baseUri: ["'self'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
    },
    xFrameOptions: 'DENY',
    permissionsPolicy: { camera: [], microphone: [], geolocation: [], payment: [] },
    overwrite: false,
  });
}
