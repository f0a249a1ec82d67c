import { RetryAfterError } from '../errors.ts';
import type { RetryPolicy } from '../workflow/types.ts';

/** Delay before attempt `failedAttempt + 1`. `random` is injectable so jitter is testable. */
export function retryDelay(
  policy: RetryPolicy,
  failedAttempt: number,
  err: unknown,
  random = Math.random,
): number {
  // A server's Retry-After is honoured up to the task's max_delay, so one answer cannot park a run for days.
  if (err instanceof RetryAfterError)
    return Math.min(Number.isFinite(err.retryAfterMs) ? err.retryAfterMs : policy.delayMs, policy.maxDelayMs);
  const base =
    policy.backoff === 'exponential' ? policy.delayMs * 2 ** Math.max(0, failedAttempt - 1) : policy.delayMs;
  const capped = Math.min(base, policy.maxDelayMs);
  return Math.round(capped * (1 - policy.jitter * random()));
}
