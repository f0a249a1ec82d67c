import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const SESSION_COOKIE = 'baton_session';
/** How long a login lasts. */
export const SESSION_MAX_AGE_SECONDS = 7 * 24 * 60 * 60;
/** A cookie issued this far in the future (clock skew between instances) is still accepted. */
const CLOCK_SKEW_SECONDS = 60;
const VERSION = 'v1';

/**
 * Login cookies that never carry a token in clear and need no server-side store: the value is
 * `v1.<issued-at seconds>.<random>.<HMAC-SHA256 over the rest>`, keyed with a key derived from one
 * of the configured tokens. Any Baton instance with the same tokens verifies it; removing a token
 * from `BATON_API_TOKENS` ends every session made from it.
 */
export class SessionSigner {
  private readonly keys: Buffer[];

  constructor(
    tokens: readonly string[],
    private readonly maxAgeSeconds = SESSION_MAX_AGE_SECONDS,
  ) {
    this.keys = tokens.map((token) => createHmac('sha256', token).update('baton-session-key-v1').digest());
  }

  /** A fresh session value for the token at `index` (the one the user logged in with). */
  issue(index: number, nowMs = Date.now()): string {
    const key = this.keys[index];
    if (!key) throw new Error(`no token at index ${index}`);
    const payload = `${VERSION}.${Math.floor(nowMs / 1000)}.${randomBytes(16).toString('base64url')}`;
    return `${payload}.${sign(key, payload)}`;
  }

  /** True when the value was signed with one of the tokens' keys and has not expired. */
  verify(value: string | undefined, nowMs = Date.now()): boolean {
    if (!value || value.length > 200) return false;
    const parts = value.split('.');
    if (parts.length !== 4 || parts[0] !== VERSION) return false;
    const [, issued, nonce, signature] = parts as [string, string, string, string];
    if (!/^\d{1,12}$/.test(issued) || !/^[\w-]{16,64}$/.test(nonce)) return false;
    const age = Math.floor(nowMs / 1000) - Number(issued);
    if (age > this.maxAgeSeconds || age < -CLOCK_SKEW_SECONDS) return false;
    const given = Buffer.from(signature, 'base64url');
    const payload = `${VERSION}.${issued}.${nonce}`;
    let ok = false;
    // Every key is tried, so the time taken does not say which one matched.
    for (const key of this.keys) {
      const expected = Buffer.from(sign(key, payload), 'base64url');
      if (given.length === expected.length && timingSafeEqual(given, expected)) ok = true;
    }
    return ok;
  }
}

function sign(key: Buffer, payload: string): string {
  return createHmac('sha256', key).update(payload).digest('base64url');
}

/**
 * Index of the configured token equal to `candidate`, or -1. Compares SHA-256 digests in constant
 * time against every token, so neither the length nor the position of a match leaks.
 */
export function matchToken(tokens: readonly string[], candidate: string): number {
  const given = createHash('sha256').update(candidate).digest();
  let found = -1;
  tokens.forEach((token, index) => {
    const expected = createHash('sha256').update(token).digest();
    if (timingSafeEqual(given, expected) && found === -1) found = index;
  });
  return found;
}

/**
 * Where to go after logging in: a path on this site only. Anything else (`//evil.com`,
 * `/\evil.com`, `https://evil.com`, control characters) becomes `/`.
 */
export function safeNext(next: unknown): string {
  if (typeof next !== 'string' || next.length > 2048) return '/';
  if (!next.startsWith('/') || next.startsWith('//') || next.includes('\\') || hasControl(next)) return '/';
  try {
    const base = 'http://baton.invalid';
    const url = new URL(next, base);
    if (url.origin !== base) return '/';
    return `${url.pathname}${url.search}${url.hash}`;
  } catch {
    return '/';
  }
}

function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}
