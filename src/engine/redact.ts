const MASK = '***';
/** Very short values would mask ordinary text ("a", "1") without protecting anything. */
const MIN_SECRET_LENGTH = 4;
const CIRCULAR = '[circular]';

/**
 * Every form in which a secret can show up in text: the value itself, each line of a
 * multi-line value (a PEM key logged line by line), and the JSON-escaped form (a secret
 * embedded in JSON text, where newlines and quotes are escaped).
 */
function formsOf(secret: string): string[] {
  const forms = [secret];
  if (/[\r\n]/.test(secret)) {
    for (const line of secret.split('\n')) forms.push(line.replace(/^\r+|\r+$/g, ''));
  }
  for (const form of [...forms]) {
    const escaped = JSON.stringify(form).slice(1, -1);
    if (escaped !== form) forms.push(escaped);
  }
  return forms;
}

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
