import { describe, expect, it } from 'vitest';
import { uuidv7 } from '../../src/util/ids.ts';

const FORMAT = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The 48-bit millisecond timestamp at the front of a v7 id. */
const msOf = (id: string) => Number.parseInt(id.replaceAll('-', '').slice(0, 12), 16);

describe('uuidv7', () => {
  it('is a version 7, RFC 4122 variant UUID carrying the millisecond timestamp', () => {
    for (const now of [0, 1, 2 ** 32 - 1, 2 ** 32, 1_795_382_705_123, 2 ** 48 - 1]) {
      const id = uuidv7(now);
      expect(id).toMatch(FORMAT);
      expect(msOf(id)).toBe(now);
    }
    expect(msOf(uuidv7())).toBeLessThanOrEqual(Date.now());
  });

  it('sorts by time and never repeats, across refills of its random pool', () => {
    const ids = Array.from({ length: 5000 }, (_, i) => uuidv7(1_700_000_000_000 + i));
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    // Same millisecond: the random part still differs.
    const same = Array.from({ length: 5000 }, () => uuidv7(1_700_000_000_000));
    expect(new Set(same).size).toBe(same.length);
    for (const id of same) expect(id).toMatch(FORMAT);
  });
});
