import { CancelledError } from '../errors.ts';

/**
 * Why a signal fired, as an Error to throw. The engine aborts with typed reasons
 * (TimeoutError, CancelledError) and those are kept; anything else reads as a cancellation.
 */
export function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error && reason.name !== 'AbortError') return reason;
  return new CancelledError('cancelled', { cause: reason });
}

/** Waits `ms`, or rejects with abortError as soon as the signal fires. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal as AbortSignal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
