const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;
const WHOLE = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/;

/** Parses `500ms`, `30s`, `5m`, `1h30m`, `2d`; a bare number means milliseconds. */
export function parseDuration(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.round(value) : undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  if (!WHOLE.test(text)) return undefined;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(PART))
    total += Number(amount) * (UNIT_MS[unit as string] ?? 0);
  return Math.round(total);
}

/**
 * The longest delay a timer can wait: setTimeout takes a signed 32-bit millisecond count and
 * fires at once for anything larger (about 24.8 days).
 */
export const MAX_DURATION_MS = 2_147_483_647;

/** Why a parsed duration cannot be used, or undefined when it can. */
export function durationTooLong(text: string | number, ms: number): string | undefined {
  if (ms <= MAX_DURATION_MS) return undefined;
  return `"${text}" is too long; the most is ${Math.floor(MAX_DURATION_MS / 86_400_000)}d`;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** Short human form for CLI output: `850ms`, `1.2s`, `3m04s`, `1h02m`. */
export function formatDuration(ms: number): string {
  // Each unit is chosen after rounding, so 59_999ms reads `1m00s`, never `60.0s` or `1m60s`.
  if (Math.round(ms) < 1000) return `${Math.round(ms)}ms`;
  const tenths = Math.round(ms / 100);
  if (tenths < 600) return `${(tenths / 10).toFixed(1)}s`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${pad(seconds % 60)}s`;
  const minutes = Math.round(ms / 60_000);
  return `${Math.floor(minutes / 60)}h${pad(minutes % 60)}m`;
}
