import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import action from '../../../actions/slack.send.ts';
import {
  ActionError,
  BatonError,
  NonRetriableError,
  RetryAfterError,
  serializeError,
} from '../../../src/errors.ts';
import { callAction } from '../../helpers/action-context.ts';

interface Received {
  path: string;
  contentType: string | null;
  payload: unknown;
}

// The secret part of a real webhook URL is its path.
const SECRET = 'T0000/B0000/XXXXsecretXXXX';
const received: Received[] = [];
let slack: ReturnType<typeof Bun.serve>;
let hook = '';
const env = { httpAllow: ['127.0.0.1'] };

beforeAll(() => {
  // Answers like Slack: "ok" on success, a short error code otherwise (chosen by path here).
  slack = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    async fetch(req) {
      const path = new URL(req.url).pathname;
      received.push({ path, contentType: req.headers.get('content-type'), payload: await req.json() });
      if (path.endsWith('/revoked')) return new Response('no_service', { status: 404 });
      if (path.endsWith('/busy'))
        return new Response('rate_limited', { status: 429, headers: { 'retry-after': '30' } });
      if (path.endsWith('/broken')) return new Response('internal_error', { status: 500 });
      if (path.endsWith('/moved'))
        return new Response(null, { status: 301, headers: { location: '/services/x' } });
      return new Response('ok');
    },
  });
  hook = `http://127.0.0.1:${slack.port}/services/${SECRET}`;
});

afterAll(async () => {
  await slack.stop(true);
});

async function failure(promise: Promise<unknown>): Promise<BatonError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof BatonError)) throw new Error(`expected a BatonError, got ${String(err)}`);
  return err;
}

/** Nothing a user or operator sees may contain the webhook's secret path. */
function expectNoSecret(err: BatonError): void {
  const seen = [
    err.message,
    JSON.stringify(serializeError(err)),
    String((err.cause as Error | undefined)?.message),
  ];
  for (const text of seen) expect(text).not.toContain(SECRET);
}

describe('slack.send', () => {
  it('posts the message as JSON to the webhook from the secret', async () => {
    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: '*hi*' } }];
    const { output, lines } = await callAction(
      action,
      { text: 'New issue', blocks, username: 'baton', icon_emoji: ':robot_face:', channel: '#ops' },
      { env, secrets: { SLACK_WEBHOOK_URL: hook } },
    );
    expect(output).toEqual({ ok: true, status: 200 });
    const last = received.at(-1);
    expect(last?.path).toBe(`/services/${SECRET}`);
    expect(last?.contentType).toBe('application/json');
    expect(last?.payload).toEqual({
      text: 'New issue',
      blocks,
      username: 'baton',
      icon_emoji: ':robot_face:',
      channel: '#ops',
    });
    for (const line of lines) expect(line.message).not.toContain(SECRET);
  });

  it('prefers webhook_url over the secret', async () => {
    await callAction(
      action,
      { text: 'other', webhook_url: `${hook}-other` },
      { env, secrets: { SLACK_WEBHOOK_URL: `${hook}/revoked` } },
    );
    expect(received.at(-1)).toMatchObject({ path: `/services/${SECRET}-other`, payload: { text: 'other' } });
  });

  it('needs text or blocks', () => {
    expect(() => action.input.parse({ channel: '#ops' })).toThrow(/text, blocks or both/);
    expect(action.input.parse({ blocks: [{ type: 'divider' }] })).toBeTruthy();
  });

  it('tells the user which secret to set when no webhook is configured', async () => {
    const err = await failure(callAction(action, { text: 'x' }, { env }));
    expect(err).toBeInstanceOf(NonRetriableError);
    expect(err.message).toContain('BATON_SECRET_SLACK_WEBHOOK_URL');
  });

  it('fails a revoked webhook (404) as non-retriable without leaking the URL', async () => {
    const err = await failure(
      callAction(action, { text: 'x' }, { env, secrets: { SLACK_WEBHOOK_URL: `${hook}/revoked` } }),
    );
    expect(err).toBeInstanceOf(NonRetriableError);
    expect(err.details).toEqual({ status: 404, body: 'no_service' });
    expect(err.message).toContain('127.0.0.1');
    expectNoSecret(err);
  });

  it('turns a 429 into RetryAfterError carrying Retry-After', async () => {
    const err = await failure(
      callAction(action, { text: 'x' }, { env, secrets: { SLACK_WEBHOOK_URL: `${hook}/busy` } }),
    );
    expect(err).toBeInstanceOf(RetryAfterError);
    expect((err as RetryAfterError).retryAfterMs).toBe(30_000);
    expectNoSecret(err);
  });

  it('fails a 5xx as retriable', async () => {
    const err = await failure(
      callAction(action, { text: 'x' }, { env, secrets: { SLACK_WEBHOOK_URL: `${hook}/broken` } }),
    );
    expect(err).toBeInstanceOf(ActionError);
    expect(err).not.toBeInstanceOf(NonRetriableError);
    expectNoSecret(err);
  });

  it('does not follow redirects', async () => {
    const err = await failure(
      callAction(action, { text: 'x' }, { env, secrets: { SLACK_WEBHOOK_URL: `${hook}/moved` } }),
    );
    expect(err).toBeInstanceOf(NonRetriableError);
    expect(err.details).toEqual({ status: 301 });
    expectNoSecret(err);
  });

  it('reports an unreachable webhook as retriable without the URL in message or cause', async () => {
    const closed = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response('ok') });
    const port = closed.port;
    await closed.stop(true);
    const url = `http://127.0.0.1:${port}/services/${SECRET}`;
    const err = await failure(
      callAction(action, { text: 'x' }, { env, secrets: { SLACK_WEBHOOK_URL: url } }),
    );
    expect(err).toBeInstanceOf(ActionError);
    expect(err).not.toBeInstanceOf(NonRetriableError);
    expectNoSecret(err);
  });

  it('applies the private-address guard, without leaking the URL', async () => {
    const err = await failure(callAction(action, { text: 'x' }, { secrets: { SLACK_WEBHOOK_URL: hook } }));
    expect(err).toBeInstanceOf(NonRetriableError);
    expect(err.message).toContain('BATON_HTTP_ALLOW');
    expectNoSecret(err);
  });

  it('does not echo an unparseable webhook URL', async () => {
    const err = await failure(
      callAction(action, { text: 'x' }, { env, secrets: { SLACK_WEBHOOK_URL: SECRET } }),
    );
    expect(err).toBeInstanceOf(NonRetriableError);
    expectNoSecret(err);
  });
});
