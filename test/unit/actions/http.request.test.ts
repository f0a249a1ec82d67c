import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import action from '../../../actions/http.request.ts';
import { ActionError, BatonError, NonRetriableError, RetryAfterError } from '../../../src/errors.ts';
import { parseRetryAfter } from '../../../src/plugins/http-retry.ts';
import { type CallOptions, callAction } from '../../helpers/action-context.ts';
import { waitFor } from '../../helpers/wait-for.ts';

interface Hit {
  method: string;
  path: string;
  id: string | null;
  headers: Headers;
  body: string;
}

const hits: Hit[] = [];
let server: ReturnType<typeof Bun.serve>;
let base = '';
const allow: CallOptions = { env: { httpAllow: ['127.0.0.1'] } };

/** Requests a test made, told apart by the `id` query parameter each test picks. */
const count = (path: string, id: string) => hits.filter((h) => h.path === path && h.id === id).length;

async function failure(promise: Promise<unknown>): Promise<BatonError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof BatonError)) throw new Error(`expected a BatonError, got ${String(err)}`);
  return err;
}

beforeAll(() => {
  server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    async fetch(req) {
      const url = new URL(req.url);
      const id = url.searchParams.get('id');
      const hit = {
        method: req.method,
        path: url.pathname,
        id,
        headers: req.headers,
        body: await req.text(),
      };
      hits.push(hit);
      const seen = count(url.pathname, id ?? '');
      switch (url.pathname) {
        case '/echo':
          return Response.json({
            method: hit.method,
            query: Object.fromEntries([...url.searchParams].map(([k]) => [k, url.searchParams.getAll(k)])),
            headers: Object.fromEntries(req.headers),
            body: hit.body,
          });
        case '/flaky':
          return seen === 1 ? new Response('boom', { status: 500 }) : Response.json({ ok: true });
        case '/limited':
          return seen === 1
            ? new Response('slow down', {
                status: 429,
                headers: { 'retry-after': url.searchParams.get('after') ?? '1' },
              })
            : Response.json({ ok: true });
        case '/missing':
          return Response.json({ error: 'nope' }, { status: 404 });
        case '/down':
          return new Response('maintenance', { status: 503 });
        case '/hang':
          return new Promise<Response>(() => {}); // never answers
        case '/text':
          return new Response('plain words', {
            headers: { 'content-type': 'text/plain', 'x-custom': 'yes' },
          });
        case '/big':
          return new Response('x'.repeat(10_000), { headers: { 'content-type': 'text/plain' } });
        case '/bad-json':
          return new Response('{not json', { headers: { 'content-type': 'application/json' } });
        case '/redirect':
          return new Response(null, {
            status: Number(url.searchParams.get('status') ?? 302),
            headers: { location: url.searchParams.get('to') ?? '/' },
          });
        case '/loop':
          return new Response(null, { status: 302, headers: { location: `/loop?id=${id}` } });
        default:
          return new Response('not found', { status: 404 });
      }
    },
  });
  base = `http://127.0.0.1:${server.port}`;
});

afterAll(async () => {
  await server.stop(true);
});

describe('http.request', () => {
  it('GETs with a query and parses a JSON answer', async () => {
    const { output } = await callAction(
      action,
      { url: `${base}/echo?id=q`, query: { page: 2, tag: ['a', 'b'], flag: true } },
      allow,
    );
    expect(output.status).toBe(200);
    expect(output.headers['content-type']).toContain('application/json');
    expect(output.body).toMatchObject({
      method: 'GET',
      query: { id: ['q'], page: ['2'], tag: ['a', 'b'], flag: ['true'] },
    });
  });

  it('sends JSON, text and form bodies with matching content types, and custom headers', async () => {
    const send = async (extra: Record<string, unknown>) =>
      (await callAction(action, { method: 'POST', url: `${base}/echo`, ...extra }, allow)).output.body as {
        headers: Record<string, string>;
        body: string;
      };
    const json = await send({ json: { a: 1, list: [true, null] }, headers: { 'X-Trace': 'abc' } });
    expect(JSON.parse(json.body)).toEqual({ a: 1, list: [true, null] });
    expect(json.headers['content-type']).toBe('application/json');
    expect(json.headers['x-trace']).toBe('abc');
    const text = await send({ text: 'héllo' });
    expect(text.body).toBe('héllo');
    expect(text.headers['content-type']).toBe('text/plain; charset=utf-8');
    const form = await send({ form: { name: 'Ada Lovelace', n: 1, tags: ['x', 'y&z'] } });
    expect(form.body).toBe('name=Ada+Lovelace&n=1&tags=x&tags=y%26z');
    expect(form.headers['content-type']).toBe('application/x-www-form-urlencoded');
    const custom = await send({ text: '<a/>', headers: { 'Content-Type': 'application/xml' } });
    expect(custom.headers['content-type']).toBe('application/xml');
  });

  it('refuses two bodies, and a body on GET, when the input is parsed', () => {
    expect(() => action.input.parse({ method: 'POST', url: base, json: {}, text: 'x' })).toThrow(/one body/);
    expect(() => action.input.parse({ url: base, json: {} })).toThrow(/has no body/);
    expect(() => action.input.parse({ url: base, timeout: 'soon' })).toThrow(/not a duration/);
  });

  it('returns text bodies as text, lower-cases header names, and keeps mislabelled JSON as text', async () => {
    const { output } = await callAction(action, { url: `${base}/text` }, allow);
    expect(output.body).toBe('plain words');
    expect(output.headers['x-custom']).toBe('yes');
    const bad = await callAction(action, { url: `${base}/bad-json` }, allow);
    expect(bad.output.body).toBe('{not json');
  });

  it('cuts bodies above the output limit and says so', async () => {
    const { output } = await callAction(
      action,
      { url: `${base}/big` },
      { env: { httpAllow: ['127.0.0.1'], outputLimitBytes: 100 } },
    );
    expect(output.body).toMatch(/^x{100}\n…\[truncated: the body is larger than 100 bytes\]$/);
  });

  it('retries a 500 and succeeds', async () => {
    const { output, lines } = await callAction(action, { url: `${base}/flaky?id=r1` }, allow);
    expect(output.status).toBe(200);
    expect(count('/flaky', 'r1')).toBe(2);
    expect(lines.some((l) => l.level === 'warn' && l.message.includes('answered 500'))).toBe(true);
  });

  it('waits for Retry-After on a 429, then succeeds', async () => {
    const started = performance.now();
    const { output } = await callAction(action, { url: `${base}/limited?id=r2&after=1` }, allow);
    expect(output.status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);
    expect(count('/limited', 'r2')).toBe(2);
  });

  it('hands a Retry-After longer than the cap to the engine as RetryAfterError', async () => {
    const err = await failure(callAction(action, { url: `${base}/limited?id=r3&after=120` }, allow));
    expect(err).toBeInstanceOf(RetryAfterError);
    expect((err as RetryAfterError).retryAfterMs).toBe(120_000);
    expect(count('/limited', 'r3')).toBe(1);
  });

  it('fails a final 404 without retrying, as NonRetriableError with status and body', async () => {
    const err = await failure(callAction(action, { url: `${base}/missing?id=n1&token=s3cret` }, allow));
    expect(err).toBeInstanceOf(NonRetriableError);
    expect(err.details).toEqual({ status: 404, body: '{"error":"nope"}' });
    expect(err.message).toContain('404');
    expect(err.message).not.toContain('s3cret'); // the query stays out of messages
    expect(count('/missing', 'n1')).toBe(1);
  });

  it('returns error statuses as output when fail_on_status is false', async () => {
    const { output } = await callAction(
      action,
      { url: `${base}/missing?id=n2`, fail_on_status: false },
      allow,
    );
    expect(output).toMatchObject({ status: 404, body: { error: 'nope' } });
  });

  it('gives up on a 503 after retries + 1 attempts with a retriable ActionError', async () => {
    const err = await failure(callAction(action, { url: `${base}/down?id=d1`, retries: 2 }, allow));
    expect(err).toBeInstanceOf(ActionError);
    expect(err).not.toBeInstanceOf(NonRetriableError);
    expect(err.details).toMatchObject({ status: 503, body: 'maintenance' });
    expect(count('/down', 'd1')).toBe(3);
  });

  it('times out a server that never answers', async () => {
    const started = performance.now();
    const err = await failure(
      callAction(action, { url: `${base}/hang?id=t1`, timeout: '200ms', retries: 0 }, allow),
    );
    expect(err).toBeInstanceOf(ActionError);
    expect(err.message).toMatch(/timeout/);
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('retries timeouts like other network errors', async () => {
    const err = await failure(
      callAction(action, { url: `${base}/hang?id=t2`, timeout: 100, retries: 1 }, allow),
    );
    expect(err.message).toMatch(/timeout/);
    expect(count('/hang', 't2')).toBe(2);
  });

  it('aborts the request when the task is cancelled', async () => {
    const controller = new AbortController();
    const pending = failure(
      callAction(
        action,
        { url: `${base}/hang?id=c1`, timeout: '30s' },
        { ...allow, signal: controller.signal },
      ),
    );
    await waitFor(() => count('/hang', 'c1') === 1);
    const started = performance.now();
    controller.abort();
    const err = await pending;
    expect(err.code).toBe('cancelled');
    expect(performance.now() - started).toBeLessThan(2000);
    expect(count('/hang', 'c1')).toBe(1);
  });

  it('follows redirects, relative ones included, and turns a POST into a GET on 303', async () => {
    const { output } = await callAction(action, { url: `${base}/redirect?to=/echo%3Fid%3Dhop` }, allow);
    expect(output.body).toMatchObject({ method: 'GET', query: { id: ['hop'] } });
    const posted = await callAction(
      action,
      { method: 'POST', url: `${base}/redirect?status=303&to=/echo`, json: { x: 1 } },
      allow,
    );
    expect(posted.output.body).toMatchObject({ method: 'GET', body: '' });
    const kept = await callAction(
      action,
      { method: 'PUT', url: `${base}/redirect?status=307&to=/echo`, text: 'same' },
      allow,
    );
    expect(kept.output.body).toMatchObject({ method: 'PUT', body: 'same' });
  });

  it('returns the redirect itself when follow_redirects is false', async () => {
    const { output } = await callAction(
      action,
      { url: `${base}/redirect?to=/echo`, follow_redirects: false },
      allow,
    );
    expect(output.status).toBe(302);
    expect(output.headers.location).toBe('/echo');
  });

  it('stops after 5 redirects', async () => {
    const err = await failure(callAction(action, { url: `${base}/loop?id=l1` }, allow));
    expect(err).toBeInstanceOf(NonRetriableError);
    expect(err.message).toMatch(/more than 5 redirects/);
    expect(count('/loop', 'l1')).toBe(6);
  });
});

describe('http.request guard', () => {
  it('refuses 127.0.0.1 unless allow-listed, before any request is made', async () => {
    const err = await failure(callAction(action, { url: `${base}/echo?id=g1` }));
    expect(err).toBeInstanceOf(NonRetriableError);
    expect(err.message).toContain('127.0.0.1');
    expect(err.message).toContain('loopback');
    expect(err.message).toContain('BATON_HTTP_ALLOW');
    expect(count('/echo', 'g1')).toBe(0);
  });

  it.each(['http://169.254.169.254/latest/meta-data/', 'http://10.0.0.1/admin', 'http://[::1]/'])(
    'refuses a redirect from an allowed host to %s at that hop',
    async (target) => {
      const to = encodeURIComponent(target);
      const err = await failure(
        callAction(action, { url: `${base}/redirect?id=g2&to=${to}`, retries: 2 }, allow),
      );
      expect(err).toBeInstanceOf(NonRetriableError);
      expect(err.message).toContain(new URL(target).hostname.replace(/[[\]]/g, ''));
      expect(count('/redirect', 'g2')).toBeGreaterThan(0);
    },
  );

  it('refuses file:// URLs', async () => {
    const err = await failure(callAction(action, { url: 'file:///etc/passwd' }, allow));
    expect(err).toBeInstanceOf(NonRetriableError);
    expect(err.message).toMatch(/only http and https/);
  });

  it('refuses a redirect to file://', async () => {
    const err = await failure(callAction(action, { url: `${base}/redirect?to=file:///etc/passwd` }, allow));
    expect(err).toBeInstanceOf(NonRetriableError);
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates, and ignores junk', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('2', now)).toBe(2000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});
