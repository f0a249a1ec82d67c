/** @jsxImportSource hono/jsx */
import type { Redactor } from '../../src/engine/redact.ts';

/** Past this many characters a value is cut on the page (the API still serves it whole). */
const MAX_CHARS = 20_000;

export function prettyJson(value: unknown, redactor: Redactor): string {
  let text: string;
  try {
    text = JSON.stringify(redactor.value(value), null, 2) ?? 'null';
  } catch {
    text = String(value);
  }
  return text;
}

/** A JSON value pretty-printed, with every known secret masked. */
export function JsonBlock({ label, value, redactor }: { label: string; value: unknown; redactor: Redactor }) {
  if (value === null || value === undefined) return null;
  const text = prettyJson(value, redactor);
  const cut = text.length > MAX_CHARS;
  return (
    <div class="jblock">
      <div class="block-label">{label}</div>
      <pre class="json">{cut ? text.slice(0, MAX_CHARS) : text}</pre>
      {cut && (
        <p class="muted small">
          Cut at {MAX_CHARS.toLocaleString('en')} of {text.length.toLocaleString('en')} characters; the API
          has the whole value.
        </p>
      )}
    </div>
  );
}
