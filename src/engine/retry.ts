import { RetryAfterError } from '../errors.ts';
import type { RetryPolicy } from '../workflow/types.ts';

/** Delay before attempt `failedAttempt + 1`. `random` is injectable so jitter is testable. */
export function retryDelay(
  policy: RetryPolicy,
  failedAttempt: number,
  err: unknown,
  random = Math.random,
): number {
  if (err instanceof RetryAfterError) return err.retryAfterMs;
  const base =
    policy.backoff === 'exponential' ? policy.delayMs * 2 ** Math.max(0, failedAttempt - 1) : policy.delayMs;
  const capped = Math.min(base, policy.maxDelayMs);
  return Math.round(capped * (1 - policy.jitter * random()));
}
