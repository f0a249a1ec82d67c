import { BatonError } from '../errors.ts';

/** Error codes that mean "the database was unreachable or restarting", not "the write was wrong". */
const TRANSIENT_CODES: ReadonlySet<string> = new Set([
  // sockets (Node and Bun)
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  // postgres.js
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
  // Postgres: admin_shutdown, crash_shutdown, cannot_connect_now, too_many_connections,
  // serialization_failure, deadlock_detected (the whole transaction is retried)
  '57P01',
  '57P02',
  '57P03',
  '53300',
  '40001',
  '40P01',
]);

const TRANSIENT_MESSAGE = /ECONNREFUSED|ECONNRESET|connection (refused|reset|terminated|closed)/i;

/**
 * True when retrying the same operation later may succeed: connection refused/reset, the server
 * shutting down or restarting, class 08 (connection exception). Looks through `cause` chains, since
 * drizzle wraps driver errors in DrizzleQueryError. Baton's own errors (FencedError…) never are.
 */
export function isTransientDbError(err: unknown): boolean {
  let current: unknown = err;
  for (let depth = 0; depth < 6 && current; depth++) {
    if (current instanceof BatonError) return false;
    const { code, cause, message } = current as { code?: unknown; cause?: unknown; message?: unknown };
    if (typeof code === 'string' && (TRANSIENT_CODES.has(code) || /^08[0-9A-Z]{3}$/.test(code))) return true;
    if (cause === undefined && typeof message === 'string' && TRANSIENT_MESSAGE.test(message)) return true;
    current = cause;
  }
  return false;
}

export interface DbRetryOptions {
  /** Give up after this long (default 60s), rethrowing the last error. */
  maxMs?: number;
  /** First delay (default 100ms), doubled after every failure up to `maxDelayMs` (default 2s). */
  initialMs?: number;
  maxDelayMs?: number;
  onRetry?: (err: unknown, delayMs: number) => void;
}

/** Runs `operation`, retrying transient database errors with backoff; any other error is thrown at once. */
export async function withDbRetry<T>(operation: () => Promise<T>, options: DbRetryOptions = {}): Promise<T> {
  const deadline = Date.now() + (options.maxMs ?? 60_000);
  let delay = options.initialMs ?? 100;
  const maxDelay = options.maxDelayMs ?? 2000;
  while (true) {
    try {
      return await operation();
    } catch (err) {
      const left = deadline - Date.now();
      if (!isTransientDbError(err) || left <= 0) throw err;
      const wait = Math.min(delay, left);
      options.onRetry?.(err, wait);
      await new Promise((resolve) => setTimeout(resolve, wait));
      delay = Math.min(delay * 2, maxDelay);
    }
  }
}
