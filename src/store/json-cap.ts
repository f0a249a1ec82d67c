import type { SerializedError } from '../errors.ts';

/** What a stored value becomes when its JSON is larger than the limit. */
export interface TruncatedJson {
  $truncated: true;
  /** Size of the full JSON text in bytes. */
  bytes: number;
  /** The start of the JSON text. */
  preview: string;
}

const PREVIEW_CHARS = 1024;
/** JSON.stringify escapes NUL and lone surrogates this way; jsonb rejects both. */
const NEEDS_CLEANING = /\\u0000|\\ud[89a-f]/i;

/**
 * A JSON value ready for a jsonb column: null for undefined, the truncation marker when its JSON is
 * larger than `limitBytes`; NUL characters and lone surrogates (which jsonb refuses) become U+FFFD.
 */
export function capJson(value: unknown, limitBytes: number): unknown {
  if (value === undefined) return null;
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (err) {
    return { $unserializable: true, message: err instanceof Error ? err.message : String(err) };
  }
  if (json === undefined) return null;
  const bytes = Buffer.byteLength(json);
  if (bytes > limitBytes) {
    const marker: TruncatedJson = {
      $truncated: true,
      bytes,
      preview: cleanText(json.slice(0, Math.max(0, Math.min(PREVIEW_CHARS, limitBytes)))),
    };
    return marker;
  }
  if (!NEEDS_CLEANING.test(json)) return value;
  return JSON.parse(json, (_key, v) => (typeof v === 'string' ? cleanText(v) : v));
}

/** An error for storage: `details` capped like any other value. */
export function capError(error: SerializedError | undefined, limitBytes: number): SerializedError | null {
  if (!error) return null;
  const out: SerializedError = { ...error, message: cleanText(error.message) };
  if (error.details !== undefined) out.details = capJson(error.details, limitBytes);
  if (error.cause !== undefined) out.cause = cleanText(error.cause);
  return out;
}

/** Postgres text and jsonb hold neither NUL nor lone surrogates (a preview may cut a pair in half). */
export function cleanText(text: string): string {
  const noNul = text.includes('\u0000') ? text.replaceAll('\u0000', '\uFFFD') : text;
  return (noNul as unknown as { toWellFormed(): string }).toWellFormed();
}
