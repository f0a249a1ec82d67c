import { describe, expect, it } from 'vitest';
import { Redactor } from '../../../src/engine/redact.ts';

const PEM = '-----BEGIN KEY-----\r\nMIIEowIBAAKCAQEA\r\nzq9Xv2nL\r\n-----END KEY-----';

describe('Redactor', () => {
  it('masks secrets in strings, objects and lists; ignores very short values', () => {
    const r = new Redactor(['hunter22', 'ab']);
    expect(r.text('pw=hunter22 ab')).toBe('pw=*** ab');
    expect(r.value({ a: ['x hunter22'], n: 1 })).toEqual({ a: ['x ***'], n: 1 });
  });

  it('masks each line of a multi-line secret logged line by line', () => {
    const r = new Redactor([PEM]);
    expect(r.text('MIIEowIBAAKCAQEA')).toBe('***');
    expect(r.text('line: zq9Xv2nL\n')).toBe('line: ***\n');
    expect(r.text(`whole:${PEM}`)).toBe('whole:***');
    // Lines shorter than 4 characters are not masked on their own.
    expect(new Redactor(['abcdef\nxy\nqrstuv']).text('xy qrstuv')).toBe('xy ***');
  });

  it('masks the JSON-escaped form of a secret embedded in JSON text', () => {
    const r = new Redactor([PEM, 'pa"ss\\word']);
    expect(r.text(JSON.stringify({ key: PEM }))).toBe('{"key":"***"}');
    expect(r.text(JSON.stringify({ pw: 'pa"ss\\word' }))).toBe('{"pw":"***"}');
  });

  it('masks object keys as well as values', () => {
    const r = new Redactor(['s3cr3t-token']);
    expect(r.value({ 's3cr3t-token': 'x', nested: { 'Bearer s3cr3t-token': 1 } })).toEqual({
      '***': 'x',
      nested: { 'Bearer ***': 1 },
    });
  });

  it('walks only plain objects and lists, leaving other values untouched', () => {
    class Box {
      constructor(public secret: string) {}
    }
    const date = new Date(0);
    const bytes = new Uint8Array([1, 2]);
    const box = new Box('s3cr3t-token');
    const bare = Object.assign(Object.create(null), { v: 's3cr3t-token' });
    const out = new Redactor(['s3cr3t-token']).value({ date, bytes, box, bare, list: [date] });
    expect(out.date).toBe(date);
    expect(out.bytes).toBe(bytes);
    expect(out.box).toBe(box);
    expect(out.list[0]).toBe(date);
    expect(out.bare.v).toBe('***');
    // The same types come back whether or not secrets exist.
    const none = new Redactor([]).value({ date, bytes });
    expect(none.date).toBeInstanceOf(Date);
    expect(none.bytes).toBeInstanceOf(Uint8Array);
  });

  it('replaces cycles with [circular] instead of overflowing the stack', () => {
    const cyclic: Record<string, unknown> = { token: 's3cr3t-token' };
    cyclic.self = cyclic;
    const list: unknown[] = ['s3cr3t-token'];
    list.push(list);
    expect(new Redactor(['s3cr3t-token']).value({ cyclic, list })).toEqual({
      cyclic: { token: '***', self: '[circular]' },
      list: ['***', '[circular]'],
    });
    // A value seen twice without a cycle is not circular.
    const shared = { v: 's3cr3t-token' };
    expect(new Redactor(['s3cr3t-token']).value({ a: shared, b: shared })).toEqual({
      a: { v: '***' },
      b: { v: '***' },
    });
  });
});

describe('Redactor: encoded forms', () => {
  const secret = 'tok_9f8e7d6c5b4a/+=?&x y';
  const r = new Redactor([secret]);

  it('masks the base64 forms (standard, URL-safe, unpadded)', () => {
    const b64 = Buffer.from(secret).toString('base64');
    expect(r.text(`data:${b64}`)).toBe('data:***');
    expect(r.text(Buffer.from(secret).toString('base64url'))).toBe('***');
    expect(r.text(b64.replace(/=+$/, ''))).not.toContain(b64.slice(4, -4));
  });

  it('masks the secret inside longer base64 text (Basic auth), at every byte offset', () => {
    for (const user of ['u', 'us', 'use', 'user']) {
      const header = `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`;
      const masked = r.text(header);
      expect(masked).toContain('***');
      // What is left cannot be decoded back into the secret.
      expect(Buffer.from(masked.replace('Basic ', '').replace('***', ''), 'base64').toString()).not.toContain(
        secret.slice(0, 8),
      );
    }
  });

  it('masks the URL-encoded forms (encodeURIComponent and form encoding)', () => {
    expect(r.text(`https://x.test/?token=${encodeURIComponent(secret)}`)).toBe('https://x.test/?token=***');
    expect(r.text(new URLSearchParams({ token: secret }).toString())).toBe('token=***');
  });

  it('masks the forms in nested values, keys included', () => {
    const b64 = Buffer.from(secret).toString('base64');
    expect(r.value({ headers: { authorization: `Bearer ${b64}` }, [encodeURIComponent(secret)]: 1 })).toEqual(
      {
        headers: { authorization: 'Bearer ***' },
        '***': 1,
      },
    );
  });

  it('does not mask unrelated base64 text', () => {
    const other = Buffer.from('an entirely different payload').toString('base64');
    expect(r.text(other)).toBe(other);
  });
});
