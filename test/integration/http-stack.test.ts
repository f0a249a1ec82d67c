import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { applyHttpDefaults } from '../../src/http/defaults.ts';
import type { RequestLogVariables } from '../../src/http/request-log.ts';
import { createLogger } from '../../src/log.ts';
import { createMetrics } from '../../src/metrics/metrics.ts';
import { MemoryQueue } from '../../src/queue/memory-queue.ts';

const TOKEN = 'integration-token-5f1c2b';
const lines: string[] = [];
const queue = new MemoryQueue();
let server: ReturnType<typeof Bun.serve>;
let base: string;

beforeAll(() => {
  const config = loadConfig({
    BATON_API_TOKENS: TOKEN,
    BATON_CORS_ORIGINS: 'https://app.example.com',
    HOST: '127.0.0.1',
  });
  const logger = createLogger('info', { write: (line: string) => void lines.push(line) });
  const metrics = createMetrics({ queue, logger });
  const app = applyHttpDefaults(new Hono<{ Variables: RequestLogVariables }>(), { config, logger });
  app.get('/healthz', (c) => c.json({ ok: true }));
  app.get('/metrics', metrics.handler);
  app.post('/hooks/:name', (c) => {
    metrics.recordWebhook(c.req.param('name'), 'accepted');
    return c.json({ runId: 'r1' }, 202);
  });
  app.get('/api/runs', (c) => c.json({ runs: [] }));
  app.get('/', (c) => c.html('<h1>Runs</h1>'));
  server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: app.fetch });
  base = `http://127.0.0.1:${server.port}`;
});
afterAll(async () => {
  await server?.stop(true);
  await queue.close();
});

const get = (path: string, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, { headers, redirect: 'manual' });

describe('the composed middleware over real HTTP', () => {
  it('walks a browser through login to a page', async () => {
    const first = await get('/', { Accept: 'text/html' });
    expect(first.status).toBe(303);
    expect(first.headers.get('location')).toBe('/login');
    expect(first.headers.get('x-request-id')).toBeTruthy();
    expect(first.headers.get('content-security-policy')).toContain("default-src 'self'");

    const form = await get('/login', { Accept: 'text/html' });
    expect(form.status).toBe(200);
    const nonce = /'nonce-([^']+)'/.exec(form.headers.get('content-security-policy') ?? '')?.[1];
    expect(await form.text()).toContain(`<style nonce="${nonce}">`);

    const posted = await fetch(`${base}/login`, {
      method: 'POST',
      body: new URLSearchParams({ token: TOKEN, next: '/' }),
      redirect: 'manual',
    });
    expect(posted.status).toBe(303);
    expect(posted.headers.get('location')).toBe('/');
    const setCookie = posted.headers.get('set-cookie') ?? '';
    // HOST is 127.0.0.1, so the cookie is not Secure (a browser would drop it over plain HTTP).
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).not.toMatch(/Secure/i);
    const cookie = setCookie.split(';')[0] as string;

    const page = await get('/', { Accept: 'text/html', Cookie: cookie });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Runs');
  });

  it('keeps /metrics behind the token, and health and webhooks open', async () => {
    expect((await get('/healthz')).status).toBe(200);
    const hook = await fetch(`${base}/hooks/deploy`, { method: 'POST', body: '{}' });
    expect(hook.status).toBe(202);
    expect((await get('/metrics')).status).toBe(401);
    const res = await get('/metrics', { Authorization: `Bearer ${TOKEN}` });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('baton_webhooks_total{workflow="deploy",outcome="accepted"} 1');
    expect(text).toMatch(/^baton_queue_depth 0$/m);
  });

  it('answers an allowed preflight and lets the browser read the 401', async () => {
    const pre = await fetch(`${base}/api/runs`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://app.example.com', 'Access-Control-Request-Method': 'GET' },
    });
    expect(pre.status).toBe(204);
    const denied = await get('/api/runs', { Origin: 'https://app.example.com' });
    expect(denied.status).toBe(401);
    expect(denied.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
  });

  it('logs every request as JSON with its request id, and never the token', async () => {
    lines.length = 0;
    const res = await get('/api/runs', { Authorization: `Bearer ${TOKEN}`, 'X-Request-Id': 'trace-42' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('trace-42');
    const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(entries).toContainEqual(
      expect.objectContaining({ reqId: 'trace-42', method: 'GET', path: '/api/runs', status: 200 }),
    );
    expect(lines.join('')).not.toContain(TOKEN);
  });
});
