import { hmacSha256, standardWebhooksKey } from './webhook-verify.ts';

/**
 * Signing as each sender signs, for tests, examples and `curl` recipes: the mirror image of
 * webhook-verify.ts. Each returns the headers to send with the body.
 */

type Body = string | Uint8Array;

/** GitHub: `X-Hub-Signature-256`. */
export function signGithub(secret: string, body: Body): Record<string, string> {
  return { 'X-Hub-Signature-256': `sha256=${hmacSha256(secret, body).toString('hex')}` };
}

/** Stripe: `Stripe-Signature: t=...,v1=...`; several secrets give several v1 entries (a roll). */
export function signStripe(
  secrets: string | string[],
  body: Body,
  timestampSeconds = Math.floor(Date.now() / 1000),
): Record<string, string> {
  const v1 = [secrets]
    .flat()
    .map((secret) => `v1=${hmacSha256(secret, `${timestampSeconds}.`, body).toString('hex')}`);
  return { 'Stripe-Signature': [`t=${timestampSeconds}`, ...v1].join(',') };
}

/** Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature` (one entry per secret). */
export function signStandardWebhooks(
  secrets: string | string[],
  id: string,
  body: Body,
  timestampSeconds = Math.floor(Date.now() / 1000),
): Record<string, string> {
  const signatures = [secrets].flat().map((secret) => {
    const key = standardWebhooksKey(secret);
    if (!key) throw new Error('not a Standard Webhooks secret (whsec_ followed by base64)');
    return `v1,${hmacSha256(key, `${id}.${timestampSeconds}.`, body).toString('base64')}`;
  });
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': signatures.join(' '),
  };
}

/** Generic HMAC-SHA256 of the body in the given header, encoding and prefix. */
export function signHmacSha256(
  secret: string,
  body: Body,
  options: { header?: string; encoding?: 'hex' | 'base64'; prefix?: string } = {},
): Record<string, string> {
  const signature = hmacSha256(secret, body).toString(options.encoding ?? 'hex');
  return { [options.header ?? 'X-Signature']: `${options.prefix ?? ''}${signature}` };
}
