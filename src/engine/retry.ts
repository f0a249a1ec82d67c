import { CancelledError, RetryAfterError } from '../errors.ts';
import type { RetryPolicy } from '../workflow/types.ts';

/** Delay before attempt `failedAttempt + 1`. `random` is injectable so jitter is testable. */
export function retryDelay(policy: RetryPolicy, failedAttempt: number, err: unknown, random = Math.random): number {
  if (err instanceof RetryAfterError) return err.retryAfterMs;
  const base =
    policy.backoff === 'exponential' ? policy.delayMs * 2 ** Math.max(0, failedAttempt - 1) : policy.delayMs;
  const capped = Math.min(base, policy.maxDelayMs);
  return Math.round(capped * (1 - policy.jitter * random()));
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal as AbortSignal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new CancelledError('cancelled');
}
