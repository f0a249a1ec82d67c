import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MemoryQueue } from '../../src/queue/memory-queue.ts';
import { getRun } from '../../src/store/runs.ts';
import {
  signGithub,
  signHmacSha256,
  signStandardWebhooks,
  signStripe,
} from '../../src/triggers/webhook-sign.ts';
import { createTestStore } from '../helpers/db.ts';
import { answer, post, type WebhookApp, webhookApp } from '../helpers/webhook-app.ts';

/** Every preset through HTTP: valid, tampered body, wrong secret, stale timestamps, rotated keys. */

const NOW = 1_760_000_000_000;
const T = NOW / 1000;
const BODY = JSON.stringify({ action: 'opened', issue: { number: 42 } });
const TAMPERED = JSON.stringify({ action: 'opened', issue: { number: 43 } });

const GITHUB = 'gh-hook-secret';
const STRIPE = 'whsec_stripe_test_123';
const STANDARD = `whsec_${Buffer.from('standard-webhooks-key-0123456789').toString('base64')}`;
const STANDARD_OLD = `whsec_${Buffer.from('the-old-key-before-rotation-4242').toString('base64')}`;
const HMAC = 'acme-shared-secret';

let ctx: Awaited<ReturnType<typeof createTestStore>>;
let queue: MemoryQueue;
let hooks: WebhookApp;

beforeAll(async () => {
  ctx = await createTestStore();
  queue = new MemoryQueue();
  hooks = webhookApp(ctx.store.db, queue, { now: () => NOW });
  const wf = (name: string, webhook: string) =>
    hooks.registry.add(`name: ${name}\non:\n  webhook: ${webhook}\ntasks:\n  a: { run: echo hi }\n`);
  wf('gh', '{ verify: github, secret: GITHUB_WEBHOOK_SECRET }');
  wf('st', '{ verify: stripe, secret: STRIPE_WEBHOOK_SECRET }');
  wf('sw', '{ verify: standard-webhooks, secret: STANDARD_SECRET }');
  wf('sw-alias', '{ verify: standard, secret: STANDARD_SECRET }');
  wf(
    'hm',
    "{ verify: hmac-sha256, secret: ACME_SECRET, header: X-Acme-Signature, encoding: base64, prefix: 'sha256=' }",
  );
  wf('hm-default', '{ secret: ACME_SECRET }');
  wf('open', '{ verify: none }');
  Object.assign(hooks.secrets, {
    GITHUB_WEBHOOK_SECRET: GITHUB,
    STRIPE_WEBHOOK_SECRET: STRIPE,
    STANDARD_SECRET: STANDARD,
    ACME_SECRET: HMAC,
  });
});
afterAll(async () => {
  await queue?.close();
  await ctx?.cleanup();
});

let before: number;
beforeEach(async () => {
  before = await hooks.runCount();
});

async function accepted(res: Response, workflow: string): Promise<void> {
  expect(res.status).toBe(202);
  const run = await getRun(ctx.store.db, (await answer(res)).run_id);
  expect(run?.workflow).toBe(workflow);
  expect((run?.trigger as { body: unknown } | undefined)?.body).toEqual(JSON.parse(BODY));
  expect(await hooks.runCount()).toBe(before + 1);
}

async function refused(res: Response, reason: string): Promise<void> {
  expect(res.status).toBe(401);
  expect((await answer(res)).error.code).toBe('unauthorized');
  expect(hooks.outcomes.at(-1)?.reason).toBe(reason);
  expect(await hooks.runCount()).toBe(before);
}

describe('github', () => {
  it('accepts a delivery signed as GitHub signs it', async () => {
    await accepted(await post(hooks.app, '/hooks/gh', BODY, signGithub(GITHUB, BODY)), 'gh');
  });
  it('refuses a tampered body', async () => {
    const res = await post(hooks.app, '/hooks/gh', TAMPERED, signGithub(GITHUB, BODY));
    await refused(res, 'X-Hub-Signature-256 does not match');
  });
  it('refuses the wrong secret', async () => {
    const res = await post(hooks.app, '/hooks/gh', BODY, signGithub('not-it', BODY));
    await refused(res, 'X-Hub-Signature-256 does not match');
  });
  it('verifies the raw bytes, not a re-serialization of the JSON', async () => {
    const spaced = '{ "action" : "opened",\n  "issue": {"number": 42} }';
    const res0 = await post(hooks.app, '/hooks/gh', spaced, signGithub(GITHUB, spaced));
    expect(res0.status).toBe(202);
    before = await hooks.runCount();
    const res = await post(hooks.app, '/hooks/gh', spaced, signGithub(GITHUB, BODY));
    await refused(res, 'X-Hub-Signature-256 does not match');
  });
});

describe('stripe', () => {
  it('accepts a valid signature', async () => {
    await accepted(await post(hooks.app, '/hooks/st', BODY, signStripe(STRIPE, BODY, T)), 'st');
  });
  it('refuses a tampered body', async () => {
    await refused(
      await post(hooks.app, '/hooks/st', TAMPERED, signStripe(STRIPE, BODY, T)),
      'no Stripe-Signature v1 signature matches',
    );
  });
  it('refuses the wrong secret', async () => {
    await refused(
      await post(hooks.app, '/hooks/st', BODY, signStripe('whsec_wrong', BODY, T)),
      'no Stripe-Signature v1 signature matches',
    );
  });
  it('refuses a timestamp over 5 minutes old or ahead', async () => {
    await refused(
      await post(hooks.app, '/hooks/st', BODY, signStripe(STRIPE, BODY, T - 6 * 60)),
      'Stripe-Signature timestamp is too old',
    );
    await refused(
      await post(hooks.app, '/hooks/st', BODY, signStripe(STRIPE, BODY, T + 6 * 60)),
      'Stripe-Signature timestamp is too far in the future',
    );
  });
  it('accepts while a secret is rolled (two v1 signatures)', async () => {
    await accepted(
      await post(hooks.app, '/hooks/st', BODY, signStripe(['whsec_next', STRIPE], BODY, T)),
      'st',
    );
  });
});

describe('standard-webhooks', () => {
  let n = 0;
  const id = () => `msg_${++n}`;

  it('accepts a valid signature (and under the old preset name)', async () => {
    await accepted(
      await post(hooks.app, '/hooks/sw', BODY, signStandardWebhooks(STANDARD, id(), BODY, T)),
      'sw',
    );
    before = await hooks.runCount();
    await accepted(
      await post(hooks.app, '/hooks/sw-alias', BODY, signStandardWebhooks(STANDARD, id(), BODY, T)),
      'sw-alias',
    );
  });
  it('refuses a tampered body', async () => {
    await refused(
      await post(hooks.app, '/hooks/sw', TAMPERED, signStandardWebhooks(STANDARD, id(), BODY, T)),
      'no webhook-signature v1 signature matches',
    );
  });
  it('refuses the wrong secret', async () => {
    await refused(
      await post(hooks.app, '/hooks/sw', BODY, signStandardWebhooks(STANDARD_OLD, id(), BODY, T)),
      'no webhook-signature v1 signature matches',
    );
  });
  it('refuses an expired or future timestamp', async () => {
    await refused(
      await post(hooks.app, '/hooks/sw', BODY, signStandardWebhooks(STANDARD, id(), BODY, T - 301)),
      'webhook-timestamp timestamp is too old',
    );
    await refused(
      await post(hooks.app, '/hooks/sw', BODY, signStandardWebhooks(STANDARD, id(), BODY, T + 301)),
      'webhook-timestamp timestamp is too far in the future',
    );
  });
  it('accepts rotated keys: the second signature matches', async () => {
    const headers = signStandardWebhooks([STANDARD_OLD, STANDARD], id(), BODY, T);
    expect(headers['webhook-signature']?.split(' ')).toHaveLength(2);
    await accepted(await post(hooks.app, '/hooks/sw', BODY, headers), 'sw');
  });
});

describe('hmac-sha256', () => {
  const acme = { header: 'X-Acme-Signature', encoding: 'base64' as const, prefix: 'sha256=' };

  it('accepts a valid signature in the configured header, encoding and prefix', async () => {
    await accepted(await post(hooks.app, '/hooks/hm', BODY, signHmacSha256(HMAC, BODY, acme)), 'hm');
  });
  it('refuses a tampered body', async () => {
    await refused(
      await post(hooks.app, '/hooks/hm', TAMPERED, signHmacSha256(HMAC, BODY, acme)),
      'x-acme-signature does not match',
    );
  });
  it('refuses the wrong secret', async () => {
    await refused(
      await post(hooks.app, '/hooks/hm', BODY, signHmacSha256('nope', BODY, acme)),
      'x-acme-signature does not match',
    );
  });
  it('refuses the wrong encoding or a missing prefix', async () => {
    await refused(
      await post(hooks.app, '/hooks/hm', BODY, signHmacSha256(HMAC, BODY, { ...acme, prefix: '' })),
      'x-acme-signature does not start with sha256=',
    );
    await refused(
      await post(hooks.app, '/hooks/hm', BODY, signHmacSha256(HMAC, BODY, { ...acme, encoding: 'hex' })),
      'x-acme-signature does not match',
    );
  });
  it('defaults to hex in X-Signature', async () => {
    await accepted(
      await post(hooks.app, '/hooks/hm-default', BODY, signHmacSha256(HMAC, BODY)),
      'hm-default',
    );
  });
});

describe('none', () => {
  it('accepts any delivery', async () => {
    await accepted(await post(hooks.app, '/hooks/open', BODY), 'open');
  });
});
