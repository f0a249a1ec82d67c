import { describe, expect, it } from 'vitest';
import { parseContentType, parseWebhookBody } from '../../../src/triggers/webhook-body.ts';

const bytes = (text: string) => new TextEncoder().encode(text);

describe('parseWebhookBody', () => {
  it('parses JSON, including +json types and a charset parameter', () => {
    expect(parseWebhookBody(bytes('{"a":1}'), 'application/json')).toEqual({
      ok: true,
      body: { a: 1 },
      kind: 'json',
    });
    expect(parseWebhookBody(bytes('[1]'), 'application/cloudevents+json; charset=utf-8')).toMatchObject({
      body: [1],
    });
    expect(parseWebhookBody(bytes('\uFEFF{"bom":true}'), 'Application/JSON')).toMatchObject({
      body: { bom: true },
    });
  });

  it('reports malformed JSON and invalid UTF-8 as failures', () => {
    expect(parseWebhookBody(bytes('{"a":'), 'application/json')).toMatchObject({ ok: false });
    const bad = parseWebhookBody(new Uint8Array([0x7b, 0xff, 0x7d]), 'application/json');
    expect(bad).toEqual({ ok: false, message: 'the body is not valid UTF-8, so not valid JSON' });
  });

  it('turns a form into an object, repeated fields into lists', () => {
    expect(parseWebhookBody(bytes('a=1&b=x+y&a=2&c=%C3%A9'), 'application/x-www-form-urlencoded')).toEqual({
      ok: true,
      kind: 'form',
      body: { a: ['1', '2'], b: 'x y', c: 'é' },
    });
  });

  it('keeps a form field named __proto__ as a field', () => {
    const parsed = parseWebhookBody(bytes('__proto__=x&__proto__=y'), 'application/x-www-form-urlencoded');
    const body = (parsed as { body: Record<string, unknown> }).body;
    expect(Object.getPrototypeOf(body)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(body, '__proto__')?.value).toEqual(['x', 'y']);
  });

  it('keeps text as a string, decoding its charset', () => {
    expect(parseWebhookBody(bytes('hello'), 'text/plain')).toEqual({ ok: true, body: 'hello', kind: 'text' });
    expect(parseWebhookBody(new Uint8Array([0xe9]), 'text/plain; charset=iso-8859-1')).toMatchObject({
      body: 'é',
    });
    expect(parseWebhookBody(bytes('<a/>'), 'application/xml')).toMatchObject({ body: '<a/>', kind: 'text' });
    expect(parseWebhookBody(bytes('x'), 'text/plain; charset=no-such-charset')).toMatchObject({ body: 'x' });
  });

  it('without a Content-Type: JSON when it parses, else text, else base64', () => {
    expect(parseWebhookBody(bytes('{"a":1}'), undefined)).toMatchObject({ body: { a: 1 }, kind: 'json' });
    expect(parseWebhookBody(bytes('plain words'), null)).toMatchObject({ body: 'plain words', kind: 'text' });
    expect(parseWebhookBody(new Uint8Array([0xff, 0x00]), undefined)).toMatchObject({
      body: '/wA=',
      kind: 'base64',
    });
  });

  it('gives other types as base64 and an empty body as null', () => {
    expect(parseWebhookBody(new Uint8Array([1, 2, 3]), 'application/octet-stream')).toEqual({
      ok: true,
      body: 'AQID',
      kind: 'base64',
    });
    expect(parseWebhookBody(new Uint8Array(), 'application/json')).toEqual({
      ok: true,
      body: null,
      kind: 'empty',
    });
  });

  it('reads content types', () => {
    expect(parseContentType('text/plain; Charset="latin1"')).toEqual({
      mime: 'text/plain',
      charset: 'latin1',
    });
    expect(parseContentType(undefined)).toEqual({ mime: '', charset: 'utf-8' });
  });
});
