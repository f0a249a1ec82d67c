import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { NotFoundError } from '../errors.ts';

/** The API reference page: swagger-ui served from node_modules by Baton itself, no CDN, no inline script. */

const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
  'favicon-16x16.png': 'image/png',
};

export const DOCS_PATH = '/api/docs';
const ASSETS_PATH = `${DOCS_PATH}/assets`;

/** Our own start script: a file, not inline, so a strict Content-Security-Policy can stay strict. */
const INIT_SCRIPT = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: '/api/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
  });
});
`;

export const DOCS_HTML = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Baton API reference</title>
  <link rel="stylesheet" href="${ASSETS_PATH}/swagger-ui.css">
  <link rel="icon" type="image/png" href="${ASSETS_PATH}/favicon-32x32.png" sizes="32x32">
  <link rel="icon" type="image/png" href="${ASSETS_PATH}/favicon-16x16.png" sizes="16x16">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="${ASSETS_PATH}/swagger-ui-bundle.js"></script>
  <script src="${ASSETS_PATH}/init.js"></script>
</body>
</html>
`;

/**
 * The page's own policy (the app's secure headers keep a route's CSP): swagger-ui sets inline styles
 * and shows data: images; everything else stays on this origin.
 */
export const DOCS_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self' data:",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

let distDir: string | undefined;
function swaggerDist(): string {
  distDir ??= dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  return distDir;
}

const loaded = new Map<string, Promise<Uint8Array>>();
function asset(name: string): Promise<Uint8Array> {
  let file = loaded.get(name);
  if (!file) {
    file = readFile(join(swaggerDist(), name)).then((b) => new Uint8Array(b));
    file.catch(() => loaded.delete(name));
    loaded.set(name, file);
  }
  return file;
}

/** `GET /api/docs` and its assets (only the listed files; nothing else under node_modules is reachable). */
export function registerDocsPage(app: OpenAPIHono): void {
  app.get(DOCS_PATH, (c) => c.html(DOCS_HTML, 200, { 'content-security-policy': DOCS_CSP }));
  app.get(`${ASSETS_PATH}/:file`, async (c) => {
    const name = c.req.param('file');
    if (name === 'init.js') {
      return c.body(INIT_SCRIPT, 200, { 'content-type': 'text/javascript; charset=utf-8' });
    }
    const type = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
    if (!type) throw new NotFoundError(`no docs asset ${name}`);
    const bytes = await asset(name);
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200, {
      'content-type': type,
      'cache-control': 'public, max-age=3600',
    });
  });
}
