import { Hono } from 'hono';
import type { SecureHeadersVariables } from 'hono/secure-headers';
import { describe, expect, it } from 'vitest';
import { loginRoutes, requireToken } from '../../../src/http/auth.ts';
import { corsFor } from '../../../src/http/cors.ts';
import { isMachinePath, secureHeadersByPath } from '../../../src/http/secure-headers.ts';

const APP_ORIGIN = 'https://app.example.com';

/** The wiring order of server.ts: secure headers, CORS for /api, then the token check. */
function makeApp(origins: string[], tokens: string[] = []) {
  const app = new Hono<{ Variables: SecureHeadersVariables }>();
  app.use('*', secureHeadersByPath());
  app.use('/api/*', corsFor(origins));
  app.use('*', requireToken({ tokens, trustedOrigins: origins }));
  app.route('/', loginRoutes({ tokens, secure: false }));
  app.get('/api/runs', (c) => c.json({ runs: [] }));
  app.get('/api/docs', (c) => {
    c.header('Content-Security-Policy', "default-src 'self'; style-src 'self' 'unsafe-inline'");
    return c.html('<p>docs</p>');
  });
  app.get('/runs', (c) => c.html('<p>runs</p>'));
  app.post('/hooks/deploy', (c) => c.json({ run_id: 'r' }, 202));
  return app;
}

const preflight = (origin: string) => ({
  method: 'OPTIONS',
  headers: {
    Origin: origin,
    'Access-Control-Request-Method': 'POST',
    'Access-Control-Request-Headers': 'authorization,content-type',
  },
});

describe('corsFor', () => {
  it('sends no CORS headers when no origin is configured', async () => {
    const app = makeApp([]);
    const res = await app.request('/api/runs', { headers: { Origin: APP_ORIGIN } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    const pre = await app.request('/api/runs', preflight(APP_ORIGIN));
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('allows a listed origin with credentials', async () => {
    const app = makeApp([APP_ORIGIN, 'http://localhost:5173']);
    const res = await app.request('/api/runs', { headers: { Origin: APP_ORIGIN } });
    expect(res.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    expect(res.headers.get('access-control-expose-headers')).toContain('X-Request-Id');
    expect(res.headers.get('vary')).toContain('Origin');
  });

  it('answers a listed origin preflight before the token check', async () => {
    const app = makeApp([APP_ORIGIN], ['secret-token']);
    const res = await app.request('/api/runs', preflight(APP_ORIGIN));
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
    expect(res.headers.get('access-control-allow-methods')).toContain('POST');
    expect(res.headers.get('access-control-allow-headers')).toContain('Authorization');
    expect(res.headers.get('access-control-max-age')).toBe('600');
    // The real request still needs the token.
    expect((await app.request('/api/runs', { headers: { Origin: APP_ORIGIN } })).status).toBe(401);
  });

  it('denies other origins: no CORS headers, and the preflight is not answered', async () => {
    const app = makeApp([APP_ORIGIN], ['secret-token']);
    for (const origin of ['https://evil.example', 'https://app.example.com.evil.example', 'null']) {
      const res = await app.request('/api/runs', {
        headers: { Origin: origin, Authorization: 'Bearer secret-token' },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin'), origin).toBeNull();
      expect(res.headers.get('access-control-allow-credentials')).toBeNull();
      expect(res.headers.get('vary')).toContain('Origin');
      const pre = await app.request('/api/runs', preflight(origin));
      expect(pre.status).not.toBe(204);
      expect(pre.headers.get('access-control-allow-origin')).toBeNull();
    }
  });

  it('applies to /api only', async () => {
    const app = makeApp([APP_ORIGIN]);
    const res = await app.request('/runs', { headers: { Origin: APP_ORIGIN } });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('secureHeaders', () => {
  it('sets a self-only CSP and the usual hardening headers', async () => {
    const res = await makeApp([]).request('/runs');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toMatch(/style-src 'self' 'nonce-[A-Za-z0-9+/=]+'/);
    expect(csp).toContain("object-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("form-action 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('http');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('strict-transport-security')).toContain('max-age=');
    expect(res.headers.get('permissions-policy')).toContain('camera=()');
  });

  it('gives the login page a nonce that matches the CSP', async () => {
    const res = await makeApp([], ['secret-token']).request('/login');
    const nonce = /'nonce-([^']+)'/.exec(res.headers.get('content-security-policy') ?? '')?.[1];
    expect(nonce).toBeTruthy();
    expect(await res.text()).toContain(`<style nonce="${nonce}">`);
  });

  it('keeps a CSP that a route set itself', async () => {
    const res = await makeApp([]).request('/api/docs');
    expect(res.headers.get('content-security-policy')).toContain("'unsafe-inline'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('also covers error answers', async () => {
    const res = await makeApp([], ['secret-token']).request('/api/runs');
    expect(res.status).toBe(401);
    expect(res.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
    const page = await makeApp([], ['secret-token']).request('/runs');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
  });

  it('gives JSON answers (API, webhooks) a policy that loads nothing, and no nonce', async () => {
    const app = makeApp([]);
    for (const res of [
      await app.request('/api/runs'),
      await app.request('/hooks/deploy', { method: 'POST' }),
    ]) {
      expect(res.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('strict-transport-security')).toContain('max-age=');
      expect(res.headers.get('cross-origin-resource-policy')).toBe('same-origin');
    }
    expect(['/api/runs', '/api', '/hooks/a/b', '/healthz', '/readyz', '/metrics'].every(isMachinePath)).toBe(
      true,
    );
    expect(
      ['/', '/runs', '/login', '/api/docs', '/api/docs/swagger-ui.css', '/hooks'].some(isMachinePath),
    ).toBe(false);
  });
});
