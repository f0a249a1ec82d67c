const MASK = '***';
/** Very short values would mask ordinary text ("a", "1") without protecting anything. */
const MIN_SECRET_LENGTH = 4;

/** Replaces every secret value wherever it appears in strings, objects and lists. */
export class Redactor {
  private readonly values: string[];

  constructor(secrets: Iterable<string>) {
    this.values = [...new Set(secrets)]
      .filter((v) => v.length >= MIN_SECRET_LENGTH)
      .sort((a, b) => b.length - a.length);
  }

  text(value: string): string {
    let out = value;
    for (const secret of this.values) if (out.includes(secret)) out = out.split(secret).join(MASK);
    return out;
  }

  value<T>(value: T): T {
    if (this.values.length === 0) return value;
    return this.walk(value) as T;
  }

  private walk(value: unknown): unknown {
    if (typeof value === 'string') return this.text(value);
    if (Array.isArray(value)) return value.map((v) => this.walk(v));
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.walk(v)]));
    }
    return value;
  }
}
