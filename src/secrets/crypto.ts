import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { BatonError, type ErrorOptions } from '../errors.ts';

/** A sealed value could not be opened: wrong key, tampered bytes, or bound to another name. */
export class DecryptError extends BatonError {
  constructor(message: string, options: ErrorOptions = {}) {
    super('internal', message, options);
  }
}

/** Format byte first, so a later scheme can be told apart from this one. */
const VERSION = 1;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

/**
 * `BATON_MASTER_KEY` as a 256-bit key. 32 bytes in base64 or hex are used as they are; any other
 * text is stretched with HKDF, which is only as strong as the text (docs ask for 32 random bytes).
 */
export function masterKeyFrom(text: string): Buffer {
  const trimmed = text.trim();
  if (/^[0-9a-f]{64}$/i.test(trimmed)) return Buffer.from(trimmed, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(trimmed)) {
    const raw = Buffer.from(trimmed, 'base64');
    if (raw.length === KEY_BYTES) return raw;
  }
  return Buffer.from(hkdfSync('sha256', trimmed, 'baton', 'baton master key', KEY_BYTES));
}

/** Short fingerprint of a key, for telling which master key wrapped the data key (never the key). */
export function keyId(key: Buffer): string {
  return createHash('sha256').update('baton key id').update(key).digest('hex').slice(0, 16);
}

export function newDataKey(): Buffer {
  return randomBytes(KEY_BYTES);
}

/**
 * AES-256-GCM with a fresh random nonce; `aad` (the secret's name, say) is authenticated but not
 * stored, so the result only opens for the same `aad`. Output: base64 of version | nonce | ciphertext | tag.
 */
export function seal(key: Buffer, plaintext: string | Buffer, aad: string): string {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([Buffer.from([VERSION]), nonce, body, cipher.getAuthTag()]).toString('base64');
}

export function open(key: Buffer, sealed: string, aad: string): Buffer {
  const raw = Buffer.from(sealed, 'base64');
  if (raw.length < 1 + NONCE_BYTES + TAG_BYTES || raw[0] !== VERSION) {
    throw new DecryptError(`cannot decrypt ${aad}: not a sealed value of a known format`);
  }
  const nonce = raw.subarray(1, 1 + NONCE_BYTES);
  const tag = raw.subarray(raw.length - TAG_BYTES);
  const body = raw.subarray(1 + NONCE_BYTES, raw.length - TAG_BYTES);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(body), decipher.final()]);
  } catch (err) {
    throw new DecryptError(
      `cannot decrypt ${aad}: wrong key, or the stored bytes were changed or belong to another entry`,
      { cause: err },
    );
  }
}

const DATA_KEY_AAD = 'baton data key';

export function wrapDataKey(master: Buffer, dataKey: Buffer): string {
  return seal(master, dataKey, DATA_KEY_AAD);
}

export function unwrapDataKey(master: Buffer, wrapped: string): Buffer {
  try {
    return open(master, wrapped, DATA_KEY_AAD);
  } catch (err) {
    throw new DecryptError(
      'BATON_MASTER_KEY does not open the secret store: it is not the key the store was written with',
      { cause: err },
    );
  }
}
