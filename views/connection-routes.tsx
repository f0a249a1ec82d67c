/** @jsxImportSource hono/jsx */
import type { Context, Hono, MiddlewareHandler } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { CALLBACK_PATH, type Connections, newBrowserNonce } from '../src/connections/service.ts';
import { NotFoundError, UnauthorizedError, ValidationError } from '../src/errors.ts';
import { allowFormActions } from '../src/http/secure-headers.ts';
import { ConnectionsPage } from './pages/connections.tsx';
import { type PageDeps, redactorFor, renderPage } from './render.tsx';

/** Binds an authorization to the browser that started it; only its hash is stored. */
const BROWSER_COOKIE = 'baton_oauth';

function connectionsOf(deps: PageDeps): Connections {
  if (!deps.connections) throw new NotFoundError('connections are not available on this server');
  return deps.connections;
}

/**
 * Even without tokens (and so without the login cookie's checks), a page on another site must not
 * start or drop a connection in this browser.
 */
function refuseCrossSite(c: Context): void {
  const site = c.req.header('sec-fetch-site');
  if (site === 'cross-site' || site === 'same-site') {
    throw new UnauthorizedError('a page on another site cannot change connections');
  }
}

/** The Connections page, Connect (to the provider and back) and Disconnect. */
export function registerConnectionPages(app: Hono, deps: PageDeps, forms: MiddlewareHandler): void {
  app.get('/connections', async (c) => {
    const connections = connectionsOf(deps);
    const connected = c.req.query('connected');
    const redactor = await redactorFor(deps);
    allowFormActions(
      c,
      connections.providers().map((p) => new URL(p.authorizeUrl).origin),
    );
    return renderPage(
      c,
      deps,
      { title: 'Connections', section: 'connections' },
      <ConnectionsPage
        data={{
          // A provider's error text is shown as it came; mask it like everything else on the pages.
          connections: (await connections.list()).map((row) => ({
            ...row,
            lastError: row.lastError === null ? null : redactor.text(row.lastError),
          })),
          providers: connections.providers(),
          redirectUri: connections.redirectUri,
          now: new Date(),
          ...(connected ? { connected } : {}),
        }}
      />,
    );
  });

  app.post('/connections/connect', forms, async (c) => {
    refuseCrossSite(c);
    const form = await c.req.parseBody();
    const name = typeof form.name === 'string' ? form.name.trim() : '';
    const provider = typeof form.provider === 'string' ? form.provider : '';
    if (!name || !provider) throw new ValidationError('give the connection a name and pick a provider');
    // One value per browser, kept across tabs, so two authorizations under way both complete.
    const browser = getCookie(c, BROWSER_COOKIE) ?? newBrowserNonce();
    const url = await connectionsOf(deps).begin(name, provider, browser);
    setCookie(c, BROWSER_COOKIE, browser, {
      httpOnly: true,
      // Lax: the provider's redirect back is a top-level GET from another site, which must carry it.
      sameSite: 'Lax',
      secure: deps.config.cookieSecure,
      path: '/connections',
      maxAge: 60 * 60,
    });
    return c.redirect(url.href, 303);
  });

  app.get(CALLBACK_PATH, async (c) => {
    const connection = await connectionsOf(deps).complete(new URL(c.req.url), getCookie(c, BROWSER_COOKIE));
    return c.redirect(`/connections?connected=${encodeURIComponent(connection.name)}`, 303);
  });

  app.post('/connections/:name/disconnect', async (c) => {
    refuseCrossSite(c);
    await connectionsOf(deps).disconnect(c.req.param('name'));
    return c.redirect('/connections', 303);
  });
}
