import { createHmac, timingSafeEqual } from 'node:crypto';
import { DEFAULT_HMAC_HEADER, type WebhookTrigger } from '../workflow/types.ts';

/**
 * Webhook signature checks, on the raw bytes of the body as received. Every comparison is
 * constant-time over equal-length buffers. A failure carries a reason for the logs; the HTTP
 * answer stays a bare 401 so a caller learns nothing about which part was wrong.
 */

export type VerifyResult =
  | { ok: true }
  /** `misconfigured`: the fault is the configured secret, not the request (answered 409, not 401). */
  | { ok: false; reason: string; misconfigured?: boolean };

export interface VerifyOptions {
  /** Milliseconds since the epoch; tests pin it. */
  now?: () => number;
  /** How far a signed timestamp may be from now, either way (default 5 minutes). */
  toleranceMs?: number;
}

export interface HmacOptions {
  /** The header carrying the signature (any case). */
  header: string;
  encoding: 'hex' | 'base64';
  /** Text before the signature itself, e.g. `sha256=`. */
  prefix?: string;
}

export const DEFAULT_TOLERANCE_MS = 5 * 60_000;

const OK: VerifyResult = { ok: true };
const fail = (reason: string): VerifyResult => ({ ok: false, reason });

/** HMAC-SHA256 of the parts, fed in order (no concatenated copy of a large body). */
export function hmacSha256(key: string | Uint8Array, ...parts: (string | Uint8Array)[]): Buffer {
  const hmac = createHmac('sha256', key);
  for (const part of parts) hmac.update(part);
  return hmac.digest();
}

/** Constant-time equality; different lengths are unequal (the length of an HMAC is public). */
export function safeEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

const HEX = /^[0-9a-fA-F]*$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const BASE64URL = /^[A-Za-z0-9_-]*={0,2}$/;

/** Strict decoding: text that is not entirely valid hex/base64 gives undefined, never a partial buffer. */
export function decodeSignature(text: string, encoding: 'hex' | 'base64'): Buffer | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  if (encoding === 'hex') {
    return HEX.test(trimmed) && trimmed.length % 2 === 0 ? Buffer.from(trimmed, 'hex') : undefined;
  }
  if (BASE64.test(trimmed)) return Buffer.from(trimmed, 'base64');
  if (BASE64URL.test(trimmed)) return Buffer.from(trimmed, 'base64url');
  return undefined;
}

/** GitHub: `X-Hub-Signature-256: sha256=<hex HMAC of the body>`, keyed with the secret as text. */
export function verifyGithub(secret: string, body: Uint8Array, headers: Headers): VerifyResult {
  const header = headers.get('x-hub-signature-256');
  if (!header) return fail('missing X-Hub-Signature-256 header');
  if (!header.startsWith('sha256=')) return fail('X-Hub-Signature-256 does not start with sha256=');
  const given = decodeSignature(header.slice('sha256='.length), 'hex');
  if (!given) return fail('X-Hub-Signature-256 is not hex');
  return safeEqual(given, hmacSha256(secret, body)) ? OK : fail('X-Hub-Signature-256 does not match');
}

/**
 * Stripe: `Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>...]`, HMAC of `<t>.<body>` keyed
 * with the whole `whsec_...` secret as text. Any v1 may match (Stripe sends several while a
 * secret is rolled); `t` must lie within the tolerance of now, either way.
 */
export function verifyStripe(
  secret: string,
  body: Uint8Array,
  headers: Headers,
  options: VerifyOptions = {},
): VerifyResult {
  const header = headers.get('stripe-signature');
  if (!header) return fail('missing Stripe-Signature header');
  let timestamp: string | undefined;
  const signatures: string[] = [];
  for (const item of header.split(',')) {
    const at = item.indexOf('=');
    if (at < 0) continue;
    const key = item.slice(0, at).trim();
    const value = item.slice(at + 1).trim();
    if (key === 't') timestamp = value;
    else if (key === 'v1') signatures.push(value);
  }
  if (timestamp === undefined) return fail('Stripe-Signature has no t= timestamp');
  if (signatures.length === 0) return fail('Stripe-Signature has no v1= signature');
  const stale = staleTimestamp(timestamp, options);
  if (stale) return fail(`Stripe-Signature ${stale}`);
  const expected = hmacSha256(secret, `${timestamp}.`, body);
  return anyMatches(signatures, 'hex', expected) ? OK : fail('no Stripe-Signature v1 signature matches');
}

/**
 * Standard Webhooks (standardwebhooks.com): headers `webhook-id`, `webhook-timestamp` (unix
 * seconds) and `webhook-signature`, a space-separated list of `v1,<base64>`; HMAC of
 * `<id>.<timestamp>.<body>` keyed with the base64-decoded secret (`whsec_` prefix removed).
 * Any listed v1 signature may match, so senders can rotate keys.
 */
export function verifyStandardWebhooks(
  secret: string,
  body: Uint8Array,
  headers: Headers,
  options: VerifyOptions = {},
): VerifyResult {
  const key = standardWebhooksKey(secret);
  if (!key) {
    return {
      ok: false,
      reason: 'the secret is not a Standard Webhooks key (whsec_ followed by base64)',
      misconfigured: true,
    };
  }
  const id = headers.get('webhook-id');
  const timestamp = headers.get('webhook-timestamp');
  const header = headers.get('webhook-signature');
  if (!id) return fail('missing webhook-id header');
  if (!timestamp) return fail('missing webhook-timestamp header');
  if (!header) return fail('missing webhook-signature header');
  const stale = staleTimestamp(timestamp, options);
  if (stale) return fail(`webhook-timestamp ${stale}`);
  const signatures = header
    .split(' ')
    .filter((entry) => entry.startsWith('v1,'))
    .map((entry) => entry.slice('v1,'.length));
  if (signatures.length === 0) return fail('webhook-signature has no v1 signature');
  const expected = hmacSha256(key, `${id}.${timestamp}.`, body);
  return anyMatches(signatures, 'base64', expected) ? OK : fail('no webhook-signature v1 signature matches');
}

/** The signing key of a Standard Webhooks secret, or undefined when it is not one. */
export function standardWebhooksKey(secret: string): Buffer | undefined {
  const encoded = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret;
  if (encoded === '' || !BASE64.test(encoded)) return undefined;
  return Buffer.from(encoded, 'base64');
}

/** Generic HMAC-SHA256 of the body, keyed with the secret as text, in a header of your choice. */
export function verifyHmacSha256(
  secret: string,
  body: Uint8Array,
  headers: Headers,
  options: HmacOptions,
): VerifyResult {
  const header = headers.get(options.header);
  if (!header) return fail(`missing ${options.header} header`);
  let value = header.trim();
  if (options.prefix) {
    if (!value.startsWith(options.prefix))
      return fail(`${options.header} does not start with ${options.prefix}`);
    value = value.slice(options.prefix.length);
  }
  const given = decodeSignature(value, options.encoding);
  if (!given) return fail(`${options.header} is not ${options.encoding}`);
  return safeEqual(given, hmacSha256(secret, body)) ? OK : fail(`${options.header} does not match`);
}

/** Checks a delivery against the workflow's preset. `secret` is the secret's value (undefined for none). */
export function verifyWebhook(
  trigger: WebhookTrigger,
  secret: string | undefined,
  body: Uint8Array,
  headers: Headers,
  options: VerifyOptions = {},
): VerifyResult {
  if (trigger.verify === 'none') return OK;
  if (secret === undefined || secret === '') {
    return { ok: false, reason: 'no secret to verify with', misconfigured: true };
  }
  switch (trigger.verify) {
    case 'github':
      return verifyGithub(secret, body, headers);
    case 'stripe':
      return verifyStripe(secret, body, headers, options);
    case 'standard-webhooks':
      return verifyStandardWebhooks(secret, body, headers, options);
    case 'hmac-sha256':
      return verifyHmacSha256(secret, body, headers, hmacOptions(trigger));
  }
}

/** The headers a sender must sign with, as the OpenAPI document lists them. */
export function signatureHeaders(trigger: WebhookTrigger): string[] {
  switch (trigger.verify) {
    case 'none':
      return [];
    case 'github':
      return ['X-Hub-Signature-256'];
    case 'stripe':
      return ['Stripe-Signature'];
    case 'standard-webhooks':
      return ['webhook-id', 'webhook-timestamp', 'webhook-signature'];
    case 'hmac-sha256':
      return [hmacOptions(trigger).header];
  }
}

function hmacOptions(trigger: WebhookTrigger): HmacOptions {
  return {
    header: trigger.header ?? DEFAULT_HMAC_HEADER,
    encoding: trigger.encoding ?? 'hex',
    ...(trigger.prefix ? { prefix: trigger.prefix } : {}),
  };
}

/** A reason when the unix-seconds timestamp is unreadable or outside the tolerance. */
function staleTimestamp(text: string, options: VerifyOptions): string | undefined {
  if (!/^\d{1,12}$/.test(text)) return 'timestamp is not a number of seconds';
  const now = (options.now ?? Date.now)();
  const tolerance = options.toleranceMs ?? DEFAULT_TOLERANCE_MS;
  const skew = now - Number(text) * 1000;
  if (skew > tolerance) return 'timestamp is too old';
  if (skew < -tolerance) return 'timestamp is too far in the future';
  return undefined;
}

/** Compares every candidate (no early exit, so timing does not tell which one matched). */
function anyMatches(candidates: string[], encoding: 'hex' | 'base64', expected: Buffer): boolean {
  let matched = false;
  for (const candidate of candidates) {
    const given = decodeSignature(candidate, encoding);
    if (given && safeEqual(given, expected)) matched = true;
  }
  return matched;
}
