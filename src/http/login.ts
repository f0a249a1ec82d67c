import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { html } from 'hono/html';
import type { SecureHeadersVariables } from 'hono/secure-headers';
import { matchToken, SESSION_COOKIE, SESSION_MAX_AGE_SECONDS, SessionSigner, safeNext } from './session.ts';

export interface LoginRoutesOptions {
  /** `config.apiTokens`; with none, /login just sends the browser on. */
  tokens: readonly string[];
  /** `config.cookieSecure`: the cookie is sent over HTTPS only. */
  secure: boolean;
  cookieName?: string;
  maxAgeSeconds?: number;
}

type Env = { Variables: SecureHeadersVariables };

/**
 * `GET /login` (the form), `POST /login` (field `token`; sets the session cookie and answers 303
 * to `next`, a path on this site), `POST /logout` (clears the cookie). Mount with
 * `app.route('/', loginRoutes(...))`.
 */
export function loginRoutes(options: LoginRoutesOptions): Hono<Env> {
  const { tokens, secure, cookieName = SESSION_COOKIE, maxAgeSeconds = SESSION_MAX_AGE_SECONDS } = options;
  const signer = new SessionSigner(tokens, maxAgeSeconds);
  const cookieOptions = { httpOnly: true, sameSite: 'Lax', path: '/', secure } as const;
  const app = new Hono<Env>();

  app.get('/login', function loginForm(c) {
    const next = safeNext(c.req.query('next'));
    if (tokens.length === 0 || signer.verify(getCookie(c, cookieName))) return c.redirect(next, 303);
    return page(c, next, undefined, 200);
  });

  app.post(
    '/login',
    bodyLimit({ maxSize: 16 * 1024, onError: (c) => c.text('the login form is too large', 413) }),
    async function login(c) {
      // Login CSRF: another site must not log a visitor in with the attacker's token.
      if (c.req.header('sec-fetch-site') === 'cross-site') return c.text('cross-site login refused', 403);
      const form = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
      const next = safeNext(form.next);
      if (tokens.length === 0) return c.redirect(next, 303);
      const token = typeof form.token === 'string' ? form.token.trim() : '';
      const index = token === '' ? -1 : matchToken(tokens, token);
      if (index < 0) return page(c, next, 'That token is not valid.', 401);
      setCookie(c, cookieName, signer.issue(index), { ...cookieOptions, maxAge: maxAgeSeconds });
      return c.redirect(next, 303);
    },
  );

  app.post('/logout', function logout(c) {
    deleteCookie(c, cookieName, cookieOptions);
    return c.redirect('/login', 303);
  });

  return app;
}

function page(c: Context<Env>, next: string, error: string | undefined, status: 200 | 401) {
  c.header('Cache-Control', 'no-store');
  const nonce = c.get('secureHeadersNonce');
  const nonceAttr = nonce ? html` nonce="${nonce}"` : '';
  return c.html(
    html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Log in · Baton</title>
<link rel="icon" href="data:,">
<style${nonceAttr}>
body { font: 16px/1.5 system-ui, sans-serif; margin: 0; min-height: 100vh; display: grid; place-items: center; background: #f5f5f4; color: #1c1917; }
main { background: #fff; padding: 2rem; border-radius: 8px; box-shadow: 0 1px 3px #0002; width: min(22rem, 90vw); }
h1 { margin: 0 0 1rem; font-size: 1.4rem; }
label { display: block; margin-bottom: .25rem; }
input { width: 100%; box-sizing: border-box; padding: .5rem; font: inherit; border: 1px solid #a8a29e; border-radius: 4px; }
button { margin-top: 1rem; padding: .5rem 1rem; font: inherit; border: 0; border-radius: 4px; background: #1c1917; color: #fff; cursor: pointer; }
.error { color: #b91c1c; }
.hint { color: #57534e; font-size: .875rem; }
</style>
</head>
<body>
<main>
<h1>Baton</h1>
${error ? html`<p class="error" role="alert">${error}</p>` : ''}
<form method="post" action="/login">
<input type="hidden" name="next" value="${next}">
<label for="token">API token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Log in</button>
</form>
<p class="hint">One of the tokens in BATON_API_TOKENS. You stay logged in for a week on this browser.</p>
</main>
</body>
</html>`,
    status,
  );
}
