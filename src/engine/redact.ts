const MASK = '***';
/** Very short values would mask ordinary text ("a", "1") without protecting anything. */
const MIN_SECRET_LENGTH = 4;
const CIRCULAR = '[circular]';

/**
 * Every form in which a secret can show up in text: the value itself, each line of a
 * multi-line value (a PEM key logged line by line), the JSON-escaped form (a secret embedded
 * in JSON text), the URL-encoded forms (a token in a query string or a form body) and the
 * base64 forms (an `Authorization: Basic` header, a data URL).
 */
function formsOf(secret: string): string[] {
  const forms = [secret];
  if (/[\r\n]/.test(secret)) {
    for (const line of secret.split('\n')) forms.push(line.replace(/^\r+|\r+$/g, ''));
  }
  for (const form of [...forms]) {
    const escaped = JSON.stringify(form).slice(1, -1);
    if (escaped !== form) forms.push(escaped);
    forms.push(encodeURIComponent(form), new URLSearchParams({ v: form }).toString().slice(2));
  }
  forms.push(...base64Forms(secret));
  return forms;
}

/**
 * Base64 of the secret, standard and URL-safe, padded or not, and the part of it that stays the
 * same wherever the secret sits inside a longer encoded text (`user:token` in Basic auth): at
 * each of the three byte offsets, the characters that depend only on the secret's own bytes.
 */
function base64Forms(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const whole = bytes.toString('base64');
  const out = [whole, whole.replace(/=+$/, '')];
  for (let offset = 0; offset < 3; offset++) {
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes])
      .toString('base64')
      .replace(/=+$/, '');
    // Leading characters mix in the bytes before the secret, the last one the bytes after it.
    const lead = offset === 0 ? 0 : offset + 1;
    const tail = (offset + bytes.length) % 3 === 0 ? 0 : 1;
    const core = encoded.slice(lead, encoded.length - tail);
    if (core.length >= MIN_BASE64_CORE) out.push(core);
  }
  for (const form of [...out]) out.push(form.replace(/\+/g, '-').replace(/\//g, '_'));
  return out;
}

/** A shorter encoded fragment would mask unrelated base64 text by chance. */
const MIN_BASE64_CORE = 8;

/** Only plain data is walked; a Date, a Uint8Array or a class instance is left as it is. */
function isPlainObject(value: object): value is Record<string, unknown> {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Replaces every secret value wherever it appears in strings, object keys, objects and lists. */
export class Redactor {
  private readonly values: string[];

  constructor(secrets: Iterable<string>) {
    const forms = new Set<string>();
    for (const secret of secrets) {
      if (typeof secret !== 'string') continue;
      for (const form of formsOf(secret)) forms.add(form);
    }
    this.values = [...forms].filter((v) => v.length >= MIN_SECRET_LENGTH).sort((a, b) => b.length - a.length);
  }

  text(value: string): string {
    let out = value;
    for (const secret of this.values) if (out.includes(secret)) out = out.split(secret).join(MASK);
    return out;
  }

  value<T>(value: T): T {
    if (this.values.length === 0) return value;
    return this.walk(value, new WeakSet()) as T;
  }

  /** `ancestors` holds the containers being walked, so only a real cycle reads as circular. */
  private walk(value: unknown, ancestors: WeakSet<object>): unknown {
    if (typeof value === 'string') return this.text(value);
    if (value === null || typeof value !== 'object') return value;
    const isArray = Array.isArray(value);
    if (!isArray && !isPlainObject(value)) return value;
    if (ancestors.has(value)) return CIRCULAR;
    ancestors.add(value);
    try {
      if (isArray) return value.map((v) => this.walk(v, ancestors));
      const entries = Object.entries(value).map(([k, v]) => [this.text(k), this.walk(v, ancestors)]);
      const out = Object.fromEntries(entries);
      return Object.getPrototypeOf(value) === null ? Object.assign(Object.create(null), out) : out;
    } finally {
      ancestors.delete(value);
    }
  }
}
