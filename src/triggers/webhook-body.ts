/**
 * How a webhook body becomes `trigger.body`, by its Content-Type:
 * - empty body: `null`, whatever the type;
 * - `application/json`, `*+json`: the parsed JSON (malformed → a 400 for the sender);
 * - `application/x-www-form-urlencoded`: an object of strings (a repeated field: a list);
 * - `text/*`, `application/xml`, `*+xml`: the text (decoded with its charset, UTF-8 by default);
 * - no Content-Type: JSON when it parses as JSON, else UTF-8 text;
 * - anything else (binary, multipart): the raw bytes as one base64 string.
 */

export type ParsedBody = { ok: true; body: unknown; kind: BodyKind } | { ok: false; message: string };
export type BodyKind = 'empty' | 'json' | 'form' | 'text' | 'base64';

export function parseWebhookBody(bytes: Uint8Array, contentType: string | undefined | null): ParsedBody {
  if (bytes.length === 0) return { ok: true, body: null, kind: 'empty' };
  const { mime, charset } = parseContentType(contentType);
  if (mime === '') {
    const json = parseJson(bytes);
    if (json.ok) return json;
    const text = decode(bytes, 'utf-8', true);
    return text === undefined
      ? { ok: true, body: Buffer.from(bytes).toString('base64'), kind: 'base64' }
      : { ok: true, body: text, kind: 'text' };
  }
  if (isJson(mime)) return parseJson(bytes);
  if (mime === 'application/x-www-form-urlencoded') {
    return { ok: true, body: formToObject(decode(bytes, charset, false) ?? ''), kind: 'form' };
  }
  if (isText(mime)) return { ok: true, body: decode(bytes, charset, false) ?? '', kind: 'text' };
  return { ok: true, body: Buffer.from(bytes).toString('base64'), kind: 'base64' };
}

export function parseContentType(header: string | undefined | null): { mime: string; charset: string } {
  if (!header) return { mime: '', charset: 'utf-8' };
  const [type = '', ...params] = header.split(';');
  let charset = 'utf-8';
  for (const param of params) {
    const [key, value] = param.split('=');
    if (key?.trim().toLowerCase() === 'charset' && value) charset = value.trim().replace(/^"|"$/g, '');
  }
  return { mime: type.trim().toLowerCase(), charset };
}

function isJson(mime: string): boolean {
  return mime === 'application/json' || mime === 'text/json' || /^application\/[\w.+-]+\+json$/.test(mime);
}

function isText(mime: string): boolean {
  return mime.startsWith('text/') || mime === 'application/xml' || /^application\/[\w.+-]+\+xml$/.test(mime);
}

function parseJson(bytes: Uint8Array): ParsedBody {
  const text = decode(bytes, 'utf-8', true);
  if (text === undefined) return { ok: false, message: 'the body is not valid UTF-8, so not valid JSON' };
  try {
    return { ok: true, body: JSON.parse(text.replace(/^\uFEFF/, '')), kind: 'json' };
  } catch (err) {
    return { ok: false, message: `the body is not valid JSON: ${(err as Error).message}` };
  }
}

/** Undefined when `fatal` and the bytes are not valid in that charset; unknown charsets read as UTF-8. */
function decode(bytes: Uint8Array, charset: string, fatal: boolean): string | undefined {
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(charset as ConstructorParameters<typeof TextDecoder>[0], { fatal });
  } catch {
    decoder = new TextDecoder('utf-8', { fatal });
  }
  try {
    return decoder.decode(bytes);
  } catch {
    return undefined;
  }
}

/** A Map first: a field named `__proto__` must stay a field, never become the prototype. */
function formToObject(text: string): Record<string, string | string[]> {
  const fields = new Map<string, string | string[]>();
  for (const [key, value] of new URLSearchParams(text)) {
    const existing = fields.get(key);
    if (existing === undefined) fields.set(key, value);
    else if (Array.isArray(existing)) existing.push(value);
    else fields.set(key, [existing, value]);
  }
  return Object.fromEntries(fields);
}
