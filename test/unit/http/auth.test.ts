import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { isOpenPath, loginRoutes, requireToken } from '../../../src/http/auth.ts';
import { SESSION_MAX_AGE_SECONDS, SessionSigner } from '../../../src/http/session.ts';

const TOKENS = ['tok-alpha-0123456789', 'tok-beta-9876543210'];

function makeApp(tokens: string[], options: { secure?: boolean; trustedOrigins?: string[] } = {}) {
  const app = new Hono();
  app.use('*', requireToken({ tokens, trustedOrigins: options.trustedOrigins ?? [] }));
  app.route('/', loginRoutes({ tokens, secure: options.secure ?? false }));
  app.get('/healthz', (c) => c.json({ ok: true }));
  app.get('/readyz', (c) => c.json({ ok: true }));
  app.get('/metrics', (c) => c.text('baton_runs_total 0'));
  app.post('/hooks/:name', (c) => c.json({ runId: 'r1' }, 202));
  app.get('/api/runs', (c) => c.json({ runs: [] }));
  app.post('/api/runs', (c) => c.json({ created: true }, 201));
  app.get('/runs', (c) => c.html('<p>runs</p>'));
  return app;
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
const html = { Accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };

async function login(app: Hono, token: string, next?: string) {
  const body = new URLSearchParams({ token, ...(next === undefined ? {} : { next }) });
  return app.request('/login', { method: 'POST', body });
}

/** The `name=value` part of a Set-Cookie header. */
const cookiePair = (res: Response) => (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';

describe('requireToken without tokens', () => {
  it('lets everything through', async () => {
    const app = makeApp([]);
    for (const path of ['/api/runs', '/runs', '/metrics', '/healthz']) {
      expect((await app.request(path)).status, path).toBe(200);
    }
    expect((await app.request('/api/runs', { method: 'POST' })).status).toBe(201);
  });

  it('sends /login straight on', async () => {
    const app = makeApp([]);
    const res = await app.request('/login?next=/runs');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/runs');
  });
});

describe('requireToken with tokens', () => {
  const app = makeApp(TOKENS);

  it('answers 401 JSON without a token, under /api and for non-page requests', async () => {
    for (const path of ['/api/runs', '/metrics', '/runs', '/api/nope']) {
      const res = await app.request(path);
      expect(res.status, path).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="baton"');
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('unauthorized');
      expect(body.error.message).toContain('Bearer');
    }
  });

  it('keeps health checks and webhooks open', async () => {
    expect((await app.request('/healthz')).status).toBe(200);
    expect((await app.request('/readyz')).status).toBe(200);
    expect((await app.request('/hooks/deploy', { method: 'POST', body: '{}' })).status).toBe(202);
    expect(isOpenPath('/hooks/a/b')).toBe(true);
    expect(isOpenPath('/hooksx')).toBe(false);
    expect(isOpenPath('/metrics')).toBe(false);
    expect(isOpenPath('/healthz/')).toBe(false);
  });

  it('accepts any configured bearer token, case-insensitive scheme', async () => {
    expect((await app.request('/api/runs', { headers: bearer(TOKENS[0] as string) })).status).toBe(200);
    expect((await app.request('/api/runs', { headers: bearer(TOKENS[1] as string) })).status).toBe(200);
    const lower = { Authorization: `bearer ${TOKENS[0]}` };
    expect((await app.request('/metrics', { headers: lower })).status).toBe(200);
    expect(
      (await app.request('/api/runs', { method: 'POST', headers: bearer(TOKENS[0] as string) })).status,
    ).toBe(201);
  });

  it('rejects a wrong token, a prefix of a token and an empty one', async () => {
    for (const token of ['nope', 'tok-alpha', `${TOKENS[0]}x`, TOKENS.join(',')]) {
      const res = await app.request('/api/runs', { headers: bearer(token) });
      expect(res.status, token).toBe(401);
      expect(await res.text()).not.toContain(token);
    }
    expect((await app.request('/api/runs', { headers: { Authorization: 'Bearer ' } })).status).toBe(401);
  });

  it('redirects a browser asking for a page to the login form, keeping where it wanted to go', async () => {
    const res = await app.request('/runs?status=failed', { headers: html });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`/login?next=${encodeURIComponent('/runs?status=failed')}`);
    // Under /api a browser still gets JSON.
    expect((await app.request('/api/runs', { headers: html })).status).toBe(401);
  });

  it('tells htmx where to log in instead of redirecting the fragment', async () => {
    const res = await app.request('/runs', {
      headers: { ...html, 'HX-Request': 'true', 'HX-Current-URL': 'http://localhost:3000/runs/abc?tab=logs' },
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('hx-redirect')).toBe(`/login?next=${encodeURIComponent('/runs/abc?tab=logs')}`);
  });
});

describe('login form and session cookie', () => {
  const app = makeApp(TOKENS);

  it('serves a small self-contained form', async () => {
    const res = await app.request('/login?next=/runs/1', { headers: html });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const page = await res.text();
    expect(page).toContain('<form method="post" action="/login">');
    expect(page).toContain('name="token"');
    expect(page).toContain('name="next" value="/runs/1"');
    // Nothing to fetch: the only link is an empty inline icon (so browsers do not ask for /favicon.ico).
    expect(page).toContain('<link rel="icon" href="data:,">');
    expect(page.replace('<link rel="icon" href="data:,">', '')).not.toMatch(/(src|href)=/);
  });

  it('escapes what it echoes', async () => {
    const page = await (await app.request('/login?next=/"><script>alert(1)</script>')).text();
    expect(page).not.toContain('<script>');
  });

  it('sets an HttpOnly SameSite=Lax cookie without the token in it, then the cookie grants access', async () => {
    const res = await login(app, TOKENS[1] as string, '/runs/1');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/runs/1');
    const setCookie = res.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/^baton_session=v1\./);
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Lax');
    expect(setCookie).toContain('Path=/');
    expect(setCookie).toContain(`Max-Age=${SESSION_MAX_AGE_SECONDS}`);
    expect(setCookie).not.toContain('Secure');
    expect(setCookie).not.toContain(TOKENS[1]);

    const cookie = cookiePair(res);
    expect((await app.request('/api/runs', { headers: { Cookie: cookie } })).status).toBe(200);
    expect((await app.request('/runs', { headers: { ...html, Cookie: cookie } })).status).toBe(200);
    // Already logged in: the form sends the browser on.
    const again = await app.request('/login?next=/runs', { headers: { Cookie: cookie } });
    expect(again.status).toBe(303);
    expect(again.headers.get('location')).toBe('/runs');
  });

  it('marks the cookie Secure when configured', async () => {
    const res = await login(makeApp(TOKENS, { secure: true }), TOKENS[0] as string);
    expect(res.headers.get('set-cookie')).toContain('Secure');
  });

  it('answers a wrong token with 401 and the form again, and no cookie', async () => {
    const res = await login(app, 'wrong-token', '/runs');
    expect(res.status).toBe(401);
    expect(res.headers.get('set-cookie')).toBeNull();
    const page = await res.text();
    expect(page).toContain('That token is not valid.');
    expect(page).toContain('name="next" value="/runs"');
    expect(page).not.toContain('wrong-token');
    expect((await app.request('/login', { method: 'POST', body: new URLSearchParams({}) })).status).toBe(401);
  });

  it('never redirects off-site after login', async () => {
    for (const next of [
      '//evil.com',
      'https://evil.com/x',
      '/\\evil.com',
      '\\\\evil.com',
      'javascript:alert(1)',
    ]) {
      const res = await login(app, TOKENS[0] as string, next);
      expect(res.status, next).toBe(303);
      expect(res.headers.get('location'), next).toBe('/');
    }
    const res = await app.request('/login?next=//evil.com');
    expect(await res.text()).toContain('name="next" value="/"');
  });

  it('rejects tampered, forged, expired and revoked cookies', async () => {
    const good = cookiePair(await login(app, TOKENS[0] as string)).split('=')[1] as string;
    const [v, issued, nonce, sig] = good.split('.') as [string, string, string, string];
    const flipped = `${sig.slice(0, -2)}${sig.at(-2) === 'A' ? 'B' : 'A'}${sig.at(-1)}`;
    const signer = new SessionSigner(TOKENS);
    const candidates = {
      signature: `${v}.${issued}.${nonce}.${flipped}`,
      issuedAt: `${v}.${Number(issued) + 1}.${nonce}.${sig}`,
      nonce: `${v}.${issued}.${nonce.slice(1)}A.${sig}`,
      unsigned: `${v}.${issued}.${nonce}`,
      foreignKey: new SessionSigner(['some-other-token']).issue(0),
      expired: signer.issue(0, Date.now() - (SESSION_MAX_AGE_SECONDS + 60) * 1000),
      future: signer.issue(0, Date.now() + 3600_000),
      token: TOKENS[0] as string,
    };
    for (const [what, value] of Object.entries(candidates)) {
      const res = await app.request('/api/runs', { headers: { Cookie: `baton_session=${value}` } });
      expect(res.status, what).toBe(401);
    }
    // A token removed from the configuration ends the sessions made from it.
    const revoked = makeApp([TOKENS[1] as string]);
    expect(
      (await revoked.request('/api/runs', { headers: { Cookie: `baton_session=${good}` } })).status,
    ).toBe(401);
    expect(signer.verify(good)).toBe(true);
  });

  it('does not fall back to the cookie when a wrong bearer token is sent, but does past Basic auth', async () => {
    const cookie = cookiePair(await login(app, TOKENS[0] as string));
    const wrong = await app.request('/api/runs', { headers: { Cookie: cookie, ...bearer('nope') } });
    expect(wrong.status).toBe(401);
    const basic = await app.request('/api/runs', {
      headers: { Cookie: cookie, Authorization: 'Basic dTpw' },
    });
    expect(basic.status).toBe(200);
  });

  it('logout clears the cookie', async () => {
    const res = await app.request('/logout', { method: 'POST' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/login');
    const setCookie = res.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/^baton_session=;/);
    expect(setCookie).toContain('Max-Age=0');
  });

  it('refuses cookie-authenticated writes from another site, unless the origin is trusted', async () => {
    const cookie = cookiePair(await login(app, TOKENS[0] as string));
    const from = (site: string, origin?: string) => ({
      Cookie: cookie,
      'Sec-Fetch-Site': site,
      ...(origin ? { Origin: origin } : {}),
    });
    expect((await app.request('/api/runs', { method: 'POST', headers: from('same-origin') })).status).toBe(
      201,
    );
    const cross = await app.request('/api/runs', {
      method: 'POST',
      headers: from('same-site', 'https://x.example'),
    });
    expect(cross.status).toBe(403);
    // Reads are fine, and so is a bearer token from anywhere.
    expect((await app.request('/api/runs', { headers: from('cross-site') })).status).toBe(200);
    const withBearer = { ...bearer(TOKENS[0] as string), 'Sec-Fetch-Site': 'cross-site' };
    expect((await app.request('/api/runs', { method: 'POST', headers: withBearer })).status).toBe(201);

    const trusting = makeApp(TOKENS, { trustedOrigins: ['https://app.example'] });
    const ok = await trusting.request('/api/runs', {
      method: 'POST',
      headers: from('same-site', 'https://app.example'),
    });
    expect(ok.status).toBe(201);
  });

  it('without Sec-Fetch-Site (older browsers), a cookie write must come from this host by its Origin', async () => {
    const cookie = cookiePair(await login(app, TOKENS[0] as string));
    const post = (headers: Record<string, string>) =>
      app.request('http://baton.test/api/runs', { method: 'POST', headers: { Cookie: cookie, ...headers } });
    expect((await post({ Origin: 'http://baton.test', Host: 'baton.test' })).status).toBe(201);
    expect((await post({ Origin: 'https://evil.example', Host: 'baton.test' })).status).toBe(403);
    expect((await post({ Origin: 'null', Host: 'baton.test' })).status).toBe(403);
    // No Origin either: not a browser's cross-site form (curl with a saved cookie).
    expect((await post({})).status).toBe(201);
  });

  it('refuses a login posted from another site', async () => {
    const res = await app.request('/login', {
      method: 'POST',
      body: new URLSearchParams({ token: TOKENS[0] as string }),
      headers: { 'Sec-Fetch-Site': 'cross-site' },
    });
    expect(res.status).toBe(403);
    expect(res.headers.get('set-cookie')).toBeNull();
  });
});
