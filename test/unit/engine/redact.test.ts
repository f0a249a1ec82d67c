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
