import { describe, expect, it } from 'vitest';
import { matchToken, SessionSigner, safeNext } from '../../../src/http/session.ts';

describe('safeNext', () => {
  it('keeps paths on this site', () => {
    expect(safeNext('/runs')).toBe('/runs');
    expect(safeNext('/runs/1?tab=logs#task-a')).toBe('/runs/1?tab=logs#task-a');
    expect(safeNext('/a/../b')).toBe('/b');
  });

  it('turns everything else into /', () => {
    for (const next of [
      undefined,
      '',
      'runs',
      '//evil.com',
      '//evil.com/runs',
      '/\\evil.com',
      '\\/evil.com',
      'https://evil.com',
      'javascript:alert(1)',
      '/\tevil',
      '/runs\nSet-Cookie: x=1',
      `/${'a'.repeat(3000)}`,
      ['/runs'],
    ]) {
      expect(safeNext(next), String(next)).toBe('/');
    }
  });
});

describe('matchToken', () => {
  it('finds the index of an equal token only', () => {
    expect(matchToken(['a1', 'b2'], 'b2')).toBe(1);
    expect(matchToken(['a1', 'b2'], 'a1')).toBe(0);
    expect(matchToken(['a1', 'b2'], 'a')).toBe(-1);
    expect(matchToken(['a1', 'b2'], '')).toBe(-1);
    expect(matchToken([], 'a1')).toBe(-1);
  });
});

describe('SessionSigner', () => {
  it('verifies its own values until they expire', () => {
    const signer = new SessionSigner(['t1', 't2'], 60);
    const now = 1_800_000_000_000;
    const value = signer.issue(1, now);
    expect(value).not.toContain('t2');
    expect(signer.verify(value, now)).toBe(true);
    expect(signer.verify(value, now + 60_000)).toBe(true);
    expect(signer.verify(value, now + 61_000)).toBe(false);
    expect(new SessionSigner(['t2'], 60).verify(value, now)).toBe(true);
    expect(new SessionSigner(['t1'], 60).verify(value, now)).toBe(false);
    expect(signer.issue(0, now)).not.toBe(signer.issue(0, now));
  });

  it('rejects malformed values', () => {
    const signer = new SessionSigner(['t1']);
    for (const value of [undefined, '', 'v1', 'v1.1.2.3', 'v2.1.aaaaaaaaaaaaaaaaaaaaaa.x', 'x'.repeat(500)]) {
      expect(signer.verify(value)).toBe(false);
    }
  });
});
