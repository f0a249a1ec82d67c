import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { type RequestLogVariables, requestLog } from '../../../src/http/request-log.ts';
import { createLogger } from '../../../src/log.ts';

function makeApp() {
  const lines: string[] = [];
  const logger = createLogger('info', { write: (line: string) => void lines.push(line) });
  const app = new Hono<{ Variables: RequestLogVariables }>();
  app.use('*', requestLog({ logger }));
  app.get('/api/runs', (c) => c.json({ id: c.get('requestId') }));
  app.post('/api/workflows/:name/runs', (c) => {
    c.set('runId', 'run-123');
    c.get('log').child({ runId: 'run-123' }).info('run created');
    return c.json({ ok: true }, 201);
  });
  app.get('/boom', () => {
    throw new Error('kaput');
  });
  // Response.redirect's headers are immutable.
  app.get('/elsewhere', () => Response.redirect('https://example.com/', 302));
  app.onError((_err, c) => c.json({ error: { code: 'internal' } }, 500));
  const parsed = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { app, lines, parsed };
}

describe('requestLog', () => {
  it('gives every response a request id', async () => {
    const { app } = makeApp();
    const res = await app.request('/api/runs');
    const id = res.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(((await res.json()) as { id: string }).id).toBe(id);
  });

  it('echoes a sane incoming X-Request-Id and replaces anything else', async () => {
    const { app } = makeApp();
    const sane = await app.request('/api/runs', { headers: { 'X-Request-Id': 'lb-7f3a_9=' } });
    expect(sane.headers.get('x-request-id')).toBe('lb-7f3a_9=');
    for (const bad of ['has space', 'a"b', '<script>', 'x'.repeat(129), 'line\\nbreak']) {
      const res = await app.request('/api/runs', { headers: { 'X-Request-Id': bad } });
      expect(res.headers.get('x-request-id'), bad).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it('writes one JSON line per request with method, path, status, duration and request id', async () => {
    const { app, lines, parsed } = makeApp();
    const res = await app.request('/api/runs?cursor=abc', { headers: { 'X-Request-Id': 'req-1' } });
    expect(res.status).toBe(200);
    expect(lines).toHaveLength(1);
    expect(lines[0]?.endsWith('\n')).toBe(true);
    const [line] = parsed();
    expect(line).toMatchObject({
      level: 'info',
      reqId: 'req-1',
      method: 'GET',
      path: '/api/runs',
      status: 200,
      msg: 'request',
    });
    expect(typeof line?.durationMs).toBe('number');
    expect(typeof line?.time).toBe('string');
    // The query string may carry secrets: it is not logged.
    expect(lines[0]).not.toContain('cursor');
  });

  it('never logs Authorization, Cookie or the body', async () => {
    const { app, lines } = makeApp();
    await app.request('/api/workflows/deploy/runs', {
      method: 'POST',
      headers: {
        Authorization: 'Bearer sup3r-s3cret-token',
        Cookie: 'baton_session=v1.123.cookie-secret.sig',
        'Content-Type': 'application/json',
      },
      body: JSON.stringify({ inputs: { password: 'body-secret' } }),
    });
    const text = lines.join('');
    expect(text).not.toContain('sup3r-s3cret-token');
    expect(text).not.toContain('cookie-secret');
    expect(text).not.toContain('body-secret');
    expect(text).not.toMatch(/authorization|cookie/i);
  });

  it('carries run ids: on child loggers and on the access line', async () => {
    const { app, parsed } = makeApp();
    await app.request('/api/workflows/deploy/runs', { method: 'POST', headers: { 'X-Request-Id': 'r-9' } });
    const [created, access] = parsed();
    expect(created).toMatchObject({ msg: 'run created', runId: 'run-123', reqId: 'r-9' });
    expect(access).toMatchObject({ msg: 'request', runId: 'run-123', reqId: 'r-9', status: 201 });
  });

  it('gives an answer with immutable headers a request id too', async () => {
    const { app } = makeApp();
    const res = await app.request('/elsewhere');
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('https://example.com/');
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('logs server errors at error level', async () => {
    const { app, parsed } = makeApp();
    const res = await app.request('/boom');
    expect(res.status).toBe(500);
    expect(res.headers.get('x-request-id')).toBeTruthy();
    expect(parsed()[0]).toMatchObject({ level: 'error', status: 500, path: '/boom' });
  });
});

describe('createLogger', () => {
  it('redacts secret-looking fields if someone logs them anyway', () => {
    const lines: string[] = [];
    const logger = createLogger('info', { write: (line: string) => void lines.push(line) });
    logger.info({ headers: { authorization: 'Bearer leak', cookie: 'c=leak' }, token: 'leak' }, 'oops');
    expect(lines.join('')).not.toContain('leak');
    expect(JSON.parse(lines[0] as string)).toMatchObject({ headers: { authorization: '[redacted]' } });
  });

  it('honours the level', () => {
    const lines: string[] = [];
    const logger = createLogger('warn', { write: (line: string) => void lines.push(line) });
    logger.info('hidden');
    logger.warn('shown');
    expect(lines).toHaveLength(1);
  });
});
