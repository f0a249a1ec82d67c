import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import type { Hono } from 'hono';

/**
 * The pages' static files: htmx from its npm package, Baton's stylesheet and small script from
 * this folder. Read once at startup; each URL carries a hash of the content, so browsers may
 * cache it for a year and a new release is fetched at once. No CDN, no build step.
 */
export interface Asset {
  url: string;
  body: string;
  type: string;
}

export interface Assets {
  htmx: Asset;
  css: Asset;
  js: Asset;
}

const require = createRequire(import.meta.url);

function asset(name: string, ext: string, path: string, type: string): Asset {
  const body = readFileSync(path, 'utf8');
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 12);
  return { url: `/static/${name}-${hash}.${ext}`, body, type };
}

let loaded: Assets | undefined;

export function assets(): Assets {
  loaded ??= {
    htmx: asset('htmx', 'js', require.resolve('htmx.org/dist/htmx.min.js'), 'text/javascript; charset=utf-8'),
    css: asset('baton', 'css', resolve(import.meta.dirname, 'static/baton.css'), 'text/css; charset=utf-8'),
    js: asset(
      'baton',
      'js',
      resolve(import.meta.dirname, 'static/baton.js'),
      'text/javascript; charset=utf-8',
    ),
  };
  return loaded;
}

/** GET /static/<name>-<hash>.<ext>; an old hash is a 404 (the page that asked for it is stale). */
export function registerAssets(app: Hono): void {
  const byUrl = new Map(Object.values(assets()).map((a) => [a.url, a]));
  app.get('/static/:file', (c) => {
    const found = byUrl.get(c.req.path);
    if (!found) return c.text('not found', 404);
    c.header('Content-Type', found.type);
    c.header('Cache-Control', 'public, max-age=31536000, immutable');
    return c.body(found.body);
  });
}
