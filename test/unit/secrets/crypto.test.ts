import { describe, expect, it } from 'vitest';
import {
  DecryptError,
  keyId,
  masterKeyFrom,
  newDataKey,
  open,
  seal,
  unwrapDataKey,
  wrapDataKey,
} from '../../../src/secrets/crypto.ts';

const key = newDataKey();

describe('seal and open (AES-256-GCM)', () => {
  it('round-trips and never repeats a ciphertext (random nonce)', () => {
    const a = seal(key, 'xoxb-123-secret', 'secret SLACK');
    const b = seal(key, 'xoxb-123-secret', 'secret SLACK');
    expect(a).not.toBe(b);
    expect(open(key, a, 'secret SLACK').toString()).toBe('xoxb-123-secret');
    expect(Buffer.from(a, 'base64').includes(Buffer.from('xoxb-123-secret'))).toBe(false);
  });

  it('fails when any byte is changed', () => {
    const sealed = Buffer.from(seal(key, 'value-to-protect', 'secret A'), 'base64');
    for (let i = 1; i < sealed.length; i++) {
      const tampered = Buffer.from(sealed);
      tampered[i] = (tampered[i] as number) ^ 0x01;
      expect(() => open(key, tampered.toString('base64'), 'secret A')).toThrow(DecryptError);
    }
  });

  it('fails for another name (a value moved to another row) and with another key', () => {
    const sealed = seal(key, 'value', 'secret A');
    expect(() => open(key, sealed, 'secret B')).toThrow(/cannot decrypt secret B/);
    expect(() => open(newDataKey(), sealed, 'secret A')).toThrow(DecryptError);
  });

  it('never puts the value in its error message', () => {
    const sealed = seal(key, 'the-value', 'secret A');
    try {
      open(newDataKey(), sealed, 'secret A');
    } catch (err) {
      expect(String((err as Error).message)).not.toContain('the-value');
    }
  });
});

describe('master key', () => {
  it('takes 32 bytes as base64 or hex as they are, and stretches other text', () => {
    const raw = newDataKey();
    expect(masterKeyFrom(raw.toString('base64')).equals(raw)).toBe(true);
    expect(masterKeyFrom(raw.toString('hex')).equals(raw)).toBe(true);
    expect(masterKeyFrom('correct horse battery staple')).toHaveLength(32);
    expect(masterKeyFrom('a').equals(masterKeyFrom('b'))).toBe(false);
  });

  it('wraps the data key; only the same master key unwraps it', () => {
    const master = masterKeyFrom('master-one');
    const wrapped = wrapDataKey(master, key);
    expect(unwrapDataKey(master, wrapped).equals(key)).toBe(true);
    expect(() => unwrapDataKey(masterKeyFrom('master-two'), wrapped)).toThrow(
      /BATON_MASTER_KEY does not open/,
    );
    expect(keyId(master)).not.toBe(keyId(masterKeyFrom('master-two')));
  });
});
