import { DrizzleQueryError } from 'drizzle-orm/errors';
import { describe, expect, it } from 'vitest';
import { FencedError } from '../../../src/store/fence.ts';
import { isTransientDbError, withDbRetry } from '../../../src/store/retry.ts';

const coded = (code: string, message = code) => Object.assign(new Error(message), { code });

describe('isTransientDbError', () => {
  it('recognises outages, also inside drizzle’s wrapper', () => {
    for (const code of [
      'ECONNREFUSED',
      'ECONNRESET',
      'CONNECTION_CLOSED',
      'CONNECTION_ENDED',
      '57P01',
      '08006',
    ]) {
      expect(isTransientDbError(coded(code)), code).toBe(true);
      expect(isTransientDbError(new DrizzleQueryError('select 1', [], coded(code))), code).toBe(true);
    }
  });

  it('leaves real errors and lost leases alone', () => {
    expect(isTransientDbError(coded('23505', 'duplicate key'))).toBe(false);
    expect(isTransientDbError(coded('42P01', 'relation does not exist'))).toBe(false);
    expect(isTransientDbError(new FencedError({ runId: 'r', owner: 'w', fence: 1 }, undefined))).toBe(false);
    expect(isTransientDbError(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isTransientDbError(undefined)).toBe(false);
  });
});

describe('withDbRetry', () => {
  it('retries transient failures with growing delays, then succeeds', async () => {
    const delays: number[] = [];
    let calls = 0;
    const value = await withDbRetry(
      async () => {
        calls += 1;
        if (calls < 4) throw coded('ECONNREFUSED');
        return 'ok';
      },
      { initialMs: 5, maxDelayMs: 12, onRetry: (_err, ms) => delays.push(ms) },
    );
    expect(value).toBe('ok');
    expect(delays).toEqual([5, 10, 12]);
  });

  it('throws other errors at once, and transient ones after the deadline', async () => {
    let calls = 0;
    const fenced = new FencedError({ runId: 'r', owner: 'w', fence: 1 }, { fence: 2, leaseOwner: 'x' });
    await expect(
      withDbRetry(async () => {
        calls += 1;
        throw fenced;
      }),
    ).rejects.toBe(fenced);
    expect(calls).toBe(1);
    const started = Date.now();
    await expect(
      withDbRetry(
        async () => {
          throw coded('57P01');
        },
        { maxMs: 60, initialMs: 10 },
      ),
    ).rejects.toMatchObject({ code: '57P01' });
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
