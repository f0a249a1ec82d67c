import { describe, expect, it } from 'vitest';
import sleep from '../../../actions/sleep.ts';
import { CancelledError, TimeoutError } from '../../../src/errors.ts';
import { callAction } from '../../helpers/action-context.ts';

describe('sleep action', () => {
  it('waits for a duration given as text or milliseconds', async () => {
    const started = performance.now();
    expect((await callAction(sleep, { duration: '50ms' })).output).toEqual({ slept_ms: 50 });
    expect(performance.now() - started).toBeGreaterThanOrEqual(45);
    expect((await callAction(sleep, { duration: 5 })).output).toEqual({ slept_ms: 5 });
    expect((await callAction(sleep, { duration: '0' })).output).toEqual({ slept_ms: 0 });
  });

  it('ends at once with the abort reason when aborted', async () => {
    const controller = new AbortController();
    const reason = new TimeoutError('task timed out after 100ms');
    const started = performance.now();
    const sleeping = callAction(sleep, { duration: '30s' }, { signal: controller.signal });
    setTimeout(() => controller.abort(reason), 50);
    await expect(sleeping).rejects.toBe(reason);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('rejects with a CancelledError when aborted without an Error, or already aborted', async () => {
    const controller = new AbortController();
    controller.abort('stop');
    const started = performance.now();
    await expect(callAction(sleep, { duration: '1h' }, { signal: controller.signal })).rejects.toBeInstanceOf(
      CancelledError,
    );
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('refuses invalid and too long durations with a clear message', () => {
    const issue = (duration: unknown) => sleep.input.safeParse({ duration }).error?.issues[0];
    expect(issue('soon')).toMatchObject({
      path: ['duration'],
      message: 'invalid duration "soon": use e.g. 500ms, 30s, 5m, 1h30m, or a number of milliseconds',
    });
    expect(issue(-5)?.message).toMatch(/^invalid duration -5:/);
    expect(issue('25h')?.message).toBe('duration "25h" is longer than the maximum of 24h');
    expect(issue('24h')).toBeUndefined();
  });
});
