import { ActionError, NonRetriableError, RetryAfterError } from '../errors.ts';
import { formatDuration } from '../util/duration.ts';
import { sleep } from './abort.ts';
import type { TaskLogger } from './define-action.ts';
import { bodyExcerpt, type HttpResponse, NetworkError } from './http-client.ts';

/** Longest Retry-After waited inside an attempt; longer ones go back to the engine's scheduler. */
export const MAX_RETRY_AFTER_MS = 60_000;
const BASE_DELAY_MS = 250;
const MAX_DELAY_MS = 10_000;

export function isRetriableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status <= 599);
}

/** `Retry-After` as seconds or an HTTP date, in ms from now; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function backoff(retry: number): number {
  const delay = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** retry);
  return Math.round(delay * (0.8 + Math.random() * 0.4)); // jitter spreads out clients that failed together
}

export interface RetryOptions {
  /** Extra attempts after the first. */
  retries: number;
  signal: AbortSignal;
  log: TaskLogger;
  label: string;
}

/**
 * Repeats `attempt` on network errors and on 408/429/5xx answers, honouring Retry-After up to
 * MAX_RETRY_AFTER_MS; a longer Retry-After becomes a RetryAfterError so the engine schedules
 * the next attempt instead of a worker sleeping. Returns the last answer, whatever its status.
 */
export async function withRetries(
  attempt: () => Promise<HttpResponse>,
  options: RetryOptions,
): Promise<HttpResponse> {
  for (let retry = 0; ; retry++) {
    let response: HttpResponse;
    try {
      response = await attempt();
    } catch (err) {
      if (!(err instanceof NetworkError) || retry >= options.retries) throw err;
      const wait = backoff(retry);
      options.log.warn(`${err.message}; retry ${retry + 1}/${options.retries} in ${formatDuration(wait)}`);
      await sleep(wait, options.signal);
      continue;
    }
    if (!isRetriableStatus(response.status) || retry >= options.retries) return response;
    const retryAfter = parseRetryAfter(response.headers['retry-after']);
    if (retryAfter !== undefined && retryAfter > MAX_RETRY_AFTER_MS) {
      throw new RetryAfterError(
        `${options.label} answered ${response.status} with Retry-After ${formatDuration(retryAfter)}; ` +
          'the next attempt is scheduled for then',
        retryAfter,
        { details: { status: response.status, body: bodyExcerpt(response.body) } },
      );
    }
    const wait = retryAfter ?? backoff(retry);
    options.log.warn(
      `${options.label} answered ${response.status}; retry ${retry + 1}/${options.retries} in ${formatDuration(wait)}`,
    );
    await sleep(wait, options.signal);
  }
}

/**
 * The error for a final 4xx/5xx answer: a client error will fail the same way again
 * (except 408/429), a server error may not, and a Retry-After tells the engine when.
 */
export function statusError(response: HttpResponse, label: string): ActionError {
  const { status } = response;
  const details = { status, body: bodyExcerpt(response.body) };
  const message = `${label} answered ${status}`;
  const retryAfter = parseRetryAfter(response.headers['retry-after']);
  if (retryAfter !== undefined && (status === 429 || status === 503)) {
    return new RetryAfterError(`${message}; retry after ${formatDuration(retryAfter)}`, retryAfter, {
      details,
    });
  }
  if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
    return new NonRetriableError(message, { details });
  }
  return new ActionError(message, { details });
}
