import { describe, expect, it } from 'vitest';
import { retryDelay } from '../../../src/engine/retry.ts';
import { CancelledError, RetryAfterError } from '../../../src/errors.ts';
import { sleep } from '../../../src/plugins/abort.ts';
import type { RetryPolicy } from '../../../src/workflow/types.ts';

const policy = (p: Partial<RetryPolicy>): RetryPolicy => ({
  attempts: 5,
  delayMs: 1000,
  backoff: 'exponential',
  maxDelayMs: 10_000,
  jitter: 0,
  ...p,
});

describe('retryDelay', () => {
  it('doubles per attempt for exponential backoff, up to max_delay', () => {
    const p = policy({});
    expect([1, 2, 3, 4, 5].map((n) => retryDelay(p, n, new Error('x')))).toEqual([
      1000, 2000, 4000, 8000, 10_000,
    ]);
  });

  it('keeps the delay for constant backoff', () => {
    expect(retryDelay(policy({ backoff: 'constant' }), 4, new Error('x'))).toBe(1000);
  });

  it('applies jitter as a fraction drawn below the delay', () => {
    const p = policy({ jitter: 1 });
    expect(retryDelay(p, 2, new Error('x'), () => 0)).toBe(2000);
    expect(retryDelay(p, 2, new Error('x'), () => 0.5)).toBe(1000);
    expect(retryDelay(policy({ jitter: 0.2 }), 1, new Error('x'), () => 1)).toBe(800);
  });

  it('lets RetryAfterError decide', () => {
    expect(retryDelay(policy({}), 1, new RetryAfterError('slow down', 4321))).toBe(4321);
  });
});

describe('sleep', () => {
  it('rejects with the abort reason at once', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const p = sleep(10_000, controller.signal);
    controller.abort(new CancelledError('stop'));
    await expect(p).rejects.toThrow('stop');
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
