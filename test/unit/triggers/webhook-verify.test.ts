import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  signGithub,
  signHmacSha256,
  signStandardWebhooks,
  signStripe,
} from '../../../src/triggers/webhook-sign.ts';
import {
  decodeSignature,
  safeEqual,
  signatureHeaders,
  standardWebhooksKey,
  verifyGithub,
  verifyHmacSha256,
  verifyStandardWebhooks,
  verifyStripe,
  verifyWebhook,
} from '../../../src/triggers/webhook-verify.ts';

const enc = new TextEncoder();
const BODY = enc.encode('{"action":"opened","issue":{"number":1}}');
const TAMPERED = enc.encode('{"action":"opened","issue":{"number":2}}');
const NOW = 1_750_000_000_000;
const now = () => NOW;
const T = NOW / 1000;

const headers = (h: Record<string, string>) => new Headers(h);

describe('github', () => {
  const secret = "It's a Secret to Everybody";

  it('matches GitHub’s documented example signature', () => {
    // https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries#testing-the-webhook-payload-validation
    const body = enc.encode('Hello, World!');
    const sig = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';
    expect(verifyGithub(secret, body, headers({ 'X-Hub-Signature-256': sig }))).toEqual({ ok: true });
  });

  it('accepts a valid signature and refuses tampered body, wrong secret and missing header', () => {
    const h = headers(signGithub(secret, BODY));
    expect(verifyGithub(secret, BODY, h).ok).toBe(true);
    expect(verifyGithub(secret, TAMPERED, h)).toEqual({
      ok: false,
      reason: 'X-Hub-Signature-256 does not match',
    });
    expect(verifyGithub('other', BODY, h).ok).toBe(false);
    expect(verifyGithub(secret, BODY, headers({}))).toEqual({
      ok: false,
      reason: 'missing X-Hub-Signature-256 header',
    });
  });

  it('refuses a signature without the sha256= prefix, non-hex or truncated', () => {
    const hex = signGithub(secret, BODY)['X-Hub-Signature-256']?.slice(7) ?? '';
    expect(verifyGithub(secret, BODY, headers({ 'X-Hub-Signature-256': hex })).ok).toBe(false);
    expect(
      verifyGithub(secret, BODY, headers({ 'X-Hub-Signature-256': `sha256=${hex.slice(0, 62)}zz` })).ok,
    ).toBe(false);
    expect(
      verifyGithub(secret, BODY, headers({ 'X-Hub-Signature-256': `sha256=${hex.slice(0, 10)}` })).ok,
    ).toBe(false);
    // SHA-1 (the old X-Hub-Signature) is not accepted in its place.
    const sha1 = createHmac('sha1', secret).update(BODY).digest('hex');
    expect(verifyGithub(secret, BODY, headers({ 'X-Hub-Signature-256': `sha256=${sha1}` })).ok).toBe(false);
  });

  it('accepts upper-case hex (the bytes are compared, not the text)', () => {
    const sig = signGithub(secret, BODY)['X-Hub-Signature-256'] ?? '';
    const upper = `sha256=${sig.slice(7).toUpperCase()}`;
    expect(verifyGithub(secret, BODY, headers({ 'X-Hub-Signature-256': upper })).ok).toBe(true);
  });
});

describe('stripe', () => {
  const secret = 'whsec_test_secret';

  it('accepts a valid signature', () => {
    expect(verifyStripe(secret, BODY, headers(signStripe(secret, BODY, T)), { now }).ok).toBe(true);
  });

  it('computes the signature over "<t>.<body>" as Stripe documents', () => {
    const expected = createHmac('sha256', secret).update(`${T}.`).update(BODY).digest('hex');
    expect(signStripe(secret, BODY, T)['Stripe-Signature']).toBe(`t=${T},v1=${expected}`);
  });

  it('refuses tampered body and wrong secret', () => {
    const h = headers(signStripe(secret, BODY, T));
    expect(verifyStripe(secret, TAMPERED, h, { now })).toEqual({
      ok: false,
      reason: 'no Stripe-Signature v1 signature matches',
    });
    expect(verifyStripe('whsec_other', BODY, h, { now }).ok).toBe(false);
  });

  it('refuses a timestamp more than 5 minutes old or ahead, and accepts one just inside', () => {
    const old = headers(signStripe(secret, BODY, T - 301));
    expect(verifyStripe(secret, BODY, old, { now })).toEqual({
      ok: false,
      reason: 'Stripe-Signature timestamp is too old',
    });
    const ahead = headers(signStripe(secret, BODY, T + 301));
    expect(verifyStripe(secret, BODY, ahead, { now })).toEqual({
      ok: false,
      reason: 'Stripe-Signature timestamp is too far in the future',
    });
    expect(verifyStripe(secret, BODY, headers(signStripe(secret, BODY, T - 299)), { now }).ok).toBe(true);
    expect(verifyStripe(secret, BODY, headers(signStripe(secret, BODY, T + 299)), { now }).ok).toBe(true);
  });

  it('accepts any of several v1 signatures (a secret being rolled) and ignores v0', () => {
    const h = headers(signStripe(['whsec_old', secret], BODY, T));
    expect(verifyStripe(secret, BODY, h, { now }).ok).toBe(true);
    expect(verifyStripe('whsec_old', BODY, h, { now }).ok).toBe(true);
    const v0 = createHmac('sha256', secret).update(`${T}.`).update(BODY).digest('hex');
    expect(verifyStripe(secret, BODY, headers({ 'Stripe-Signature': `t=${T},v0=${v0}` }), { now })).toEqual({
      ok: false,
      reason: 'Stripe-Signature has no v1= signature',
    });
  });

  it('refuses a header without t, without v1, with a non-numeric t, or missing', () => {
    const v1 = signStripe(secret, BODY, T)['Stripe-Signature']?.split(',')[1] ?? '';
    expect(verifyStripe(secret, BODY, headers({ 'Stripe-Signature': v1 }), { now }).ok).toBe(false);
    expect(verifyStripe(secret, BODY, headers({ 'Stripe-Signature': `t=${T}` }), { now }).ok).toBe(false);
    expect(verifyStripe(secret, BODY, headers({ 'Stripe-Signature': `t=abc,${v1}` }), { now })).toEqual({
      ok: false,
      reason: 'Stripe-Signature timestamp is not a number of seconds',
    });
    expect(verifyStripe(secret, BODY, headers({}), { now }).ok).toBe(false);
  });
});

describe('standard-webhooks', () => {
  const secret = `whsec_${Buffer.from('a-32-byte-key-for-standard-hooks').toString('base64')}`;
  const rotated = `whsec_${Buffer.from('the-next-key-after-the-rotation!').toString('base64')}`;
  const ID = 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W';

  it('matches the Standard Webhooks reference test vector', () => {
    // From standard-webhooks/standard-webhooks libraries' tests (javascript/src/index.test.ts).
    const vector = {
      secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
      timestamp: '1614265330',
      body: '{"test": 2432232314}',
      signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    };
    const result = verifyStandardWebhooks(
      vector.secret,
      enc.encode(vector.body),
      headers({
        'webhook-id': vector.id,
        'webhook-timestamp': vector.timestamp,
        'webhook-signature': vector.signature,
      }),
      { now: () => Number(vector.timestamp) * 1000 },
    );
    expect(result).toEqual({ ok: true });
  });

  it('accepts a valid signature and refuses tampered body, wrong secret, changed id', () => {
    const signed = signStandardWebhooks(secret, ID, BODY, T);
    expect(verifyStandardWebhooks(secret, BODY, headers(signed), { now }).ok).toBe(true);
    expect(verifyStandardWebhooks(secret, TAMPERED, headers(signed), { now })).toEqual({
      ok: false,
      reason: 'no webhook-signature v1 signature matches',
    });
    expect(verifyStandardWebhooks(rotated, BODY, headers(signed), { now }).ok).toBe(false);
    expect(
      verifyStandardWebhooks(secret, BODY, headers({ ...signed, 'webhook-id': 'msg_other' }), { now }).ok,
    ).toBe(false);
  });

  it('accepts any of several signatures (key rotation), ignoring other versions', () => {
    const both = signStandardWebhooks([rotated, secret], ID, BODY, T);
    expect(both['webhook-signature']?.split(' ')).toHaveLength(2);
    // The second entry matches this receiver's key.
    expect(verifyStandardWebhooks(secret, BODY, headers(both), { now }).ok).toBe(true);
    const first = both['webhook-signature']?.split(' ')[0] ?? '';
    const withV1a = `v1a,bm90LWEtcmVhbC1zaWduYXR1cmU= ${first}`;
    expect(
      verifyStandardWebhooks(rotated, BODY, headers({ ...both, 'webhook-signature': withV1a }), { now }).ok,
    ).toBe(true);
  });

  it('refuses timestamps outside 5 minutes either way', () => {
    for (const t of [T - 301, T + 301]) {
      expect(
        verifyStandardWebhooks(secret, BODY, headers(signStandardWebhooks(secret, ID, BODY, t)), { now }).ok,
      ).toBe(false);
    }
    expect(
      verifyStandardWebhooks(secret, BODY, headers(signStandardWebhooks(secret, ID, BODY, T - 300)), { now })
        .ok,
    ).toBe(true);
  });

  it('refuses missing headers, naming which', () => {
    const signed = signStandardWebhooks(secret, ID, BODY, T);
    for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature'] as const) {
      const { [name]: _, ...rest } = signed;
      expect(verifyStandardWebhooks(secret, BODY, headers(rest), { now })).toEqual({
        ok: false,
        reason: `missing ${name} header`,
      });
    }
  });

  it('reads the key with or without whsec_, and flags a secret that is not base64 as misconfigured', () => {
    expect(standardWebhooksKey('whsec_AAEC')).toEqual(Buffer.from([0, 1, 2]));
    expect(standardWebhooksKey('AAEC')).toEqual(Buffer.from([0, 1, 2]));
    expect(standardWebhooksKey('whsec_not base64!')).toBeUndefined();
    expect(standardWebhooksKey('whsec_')).toBeUndefined();
    expect(verifyStandardWebhooks('whsec_%%%', BODY, headers({}), { now })).toMatchObject({
      ok: false,
      misconfigured: true,
    });
  });
});

describe('hmac-sha256', () => {
  const secret = 'shh';

  it('verifies hex and base64, with and without a prefix, in the configured header', () => {
    for (const encoding of ['hex', 'base64'] as const) {
      for (const prefix of [undefined, 'sha256=']) {
        const options = { header: 'X-Acme-Signature', encoding, ...(prefix ? { prefix } : {}) };
        const h = headers(signHmacSha256(secret, BODY, options));
        expect(verifyHmacSha256(secret, BODY, h, options).ok).toBe(true);
        expect(verifyHmacSha256(secret, TAMPERED, h, options).ok).toBe(false);
        expect(verifyHmacSha256('wrong', BODY, h, options).ok).toBe(false);
      }
    }
  });

  it('refuses a missing prefix, a missing header and the wrong encoding', () => {
    const options = { header: 'x-sig', encoding: 'hex' as const, prefix: 'sha256=' };
    const bare = signHmacSha256(secret, BODY, { header: 'x-sig' });
    expect(verifyHmacSha256(secret, BODY, headers(bare), options)).toEqual({
      ok: false,
      reason: 'x-sig does not start with sha256=',
    });
    expect(verifyHmacSha256(secret, BODY, headers({}), options)).toEqual({
      ok: false,
      reason: 'missing x-sig header',
    });
    const b64 = signHmacSha256(secret, BODY, { header: 'x-sig', encoding: 'base64' });
    expect(verifyHmacSha256(secret, BODY, headers(b64), { header: 'x-sig', encoding: 'hex' }).ok).toBe(false);
  });
});

describe('verifyWebhook', () => {
  it('lets everything through for none', () => {
    expect(verifyWebhook({ verify: 'none' }, undefined, BODY, headers({}))).toEqual({ ok: true });
  });

  it('dispatches by preset with the injected clock', () => {
    const s = 'whsec_AAECAwQ=';
    expect(
      verifyWebhook({ verify: 'github', secret: 'S' }, 'k', BODY, headers(signGithub('k', BODY))).ok,
    ).toBe(true);
    expect(
      verifyWebhook({ verify: 'stripe', secret: 'S' }, s, BODY, headers(signStripe(s, BODY, T)), { now }).ok,
    ).toBe(true);
    expect(
      verifyWebhook({ verify: 'stripe', secret: 'S' }, s, BODY, headers(signStripe(s, BODY, T)), {
        now: () => NOW + 10 * 60_000,
      }).ok,
    ).toBe(false);
    expect(
      verifyWebhook(
        { verify: 'standard-webhooks', secret: 'S' },
        s,
        BODY,
        headers(signStandardWebhooks(s, 'm1', BODY, T)),
        { now },
      ).ok,
    ).toBe(true);
    const hook = { verify: 'hmac-sha256' as const, secret: 'S', header: 'x-s', encoding: 'base64' as const };
    expect(
      verifyWebhook(
        hook,
        'k',
        BODY,
        headers(signHmacSha256('k', BODY, { header: 'x-s', encoding: 'base64' })),
      ).ok,
    ).toBe(true);
  });

  it('reports a missing secret as misconfigured rather than a bad request', () => {
    expect(verifyWebhook({ verify: 'github', secret: 'S' }, undefined, BODY, headers({}))).toMatchObject({
      ok: false,
      misconfigured: true,
    });
  });

  it('names the headers each preset reads', () => {
    expect(signatureHeaders({ verify: 'none' })).toEqual([]);
    expect(signatureHeaders({ verify: 'github' })).toEqual(['X-Hub-Signature-256']);
    expect(signatureHeaders({ verify: 'stripe' })).toEqual(['Stripe-Signature']);
    expect(signatureHeaders({ verify: 'standard-webhooks' })).toEqual([
      'webhook-id',
      'webhook-timestamp',
      'webhook-signature',
    ]);
    expect(signatureHeaders({ verify: 'hmac-sha256', header: 'x-acme' })).toEqual(['x-acme']);
    expect(signatureHeaders({ verify: 'hmac-sha256' })).toEqual(['x-signature']);
  });
});

describe('comparison helpers', () => {
  it('compares buffers of different lengths as unequal without throwing', () => {
    expect(safeEqual(Buffer.from([1, 2]), Buffer.from([1, 2, 3]))).toBe(false);
    expect(safeEqual(Buffer.from([1, 2]), Buffer.from([1, 2]))).toBe(true);
  });

  it('decodes strictly: partial hex or junk base64 is no signature at all', () => {
    expect(decodeSignature('abzz', 'hex')).toBeUndefined();
    expect(decodeSignature('abc', 'hex')).toBeUndefined();
    expect(decodeSignature('', 'hex')).toBeUndefined();
    expect(decodeSignature('AAEC', 'base64')).toEqual(Buffer.from([0, 1, 2]));
    expect(decodeSignature('-_8', 'base64')).toEqual(Buffer.from([0xfb, 0xff]));
    expect(decodeSignature('a b!', 'base64')).toBeUndefined();
  });
});
