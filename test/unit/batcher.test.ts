import { describe, expect, it } from 'vitest';
import { batcher } from '../../src/util/batcher.ts';

/** A `run` whose batches stay open until the test releases them. */
function gated() {
  const batches: number[][] = [];
  const gates: (() => void)[] = [];
  const run = (items: number[]) => {
    batches.push(items);
    return new Promise<string[]>((resolve) => {
      gates.push(() => resolve(items.map((n) => `r${n}`)));
    });
  };
  return { batches, gates, run };
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('batcher', () => {
  it('sends a lone call at once and groups the calls made while the slot is busy', async () => {
    const g = gated();
    const call = batcher(g.run, { maxBatch: 10, concurrency: 1 });
    const first = call(1);
    await turn();
    expect(g.batches).toEqual([[1]]);
    const rest = [call(2), call(3), call(4)];
    await turn();
    expect(g.batches).toHaveLength(1); // still waiting for the slot
    g.gates[0]?.();
    expect(await first).toBe('r1');
    await turn();
    expect(g.batches).toEqual([[1], [2, 3, 4]]);
    g.gates[1]?.();
    expect(await Promise.all(rest)).toEqual(['r2', 'r3', 'r4']);
  });

  it('groups calls made by different callbacks of one turn of the event loop', async () => {
    // Like task results arriving on several sockets at once: each callback makes its own call.
    const g = gated();
    const call = batcher(g.run, { maxBatch: 10, concurrency: 1 });
    const calls = await new Promise<Promise<string>[]>((resolve) => {
      const made: Promise<string>[] = [];
      for (const n of [1, 2, 3]) {
        setTimeout(() => {
          made.push(call(n));
          if (made.length === 3) resolve(made);
        }, 0);
      }
    });
    await turn();
    expect(g.batches).toEqual([[1, 2, 3]]);
    g.gates[0]?.();
    expect(await Promise.all(calls)).toEqual(['r1', 'r2', 'r3']);
  });

  it('groups calls made in the same turn and splits at maxBatch', async () => {
    const g = gated();
    const call = batcher(g.run, { maxBatch: 2, concurrency: 2 });
    const all = [1, 2, 3, 4, 5].map((n) => call(n));
    await turn();
    expect(g.batches).toEqual([
      [1, 2],
      [3, 4],
    ]);
    g.gates[0]?.();
    await turn();
    expect(g.batches[2]).toEqual([5]);
    g.gates[1]?.();
    g.gates[2]?.();
    expect(await Promise.all(all)).toEqual(['r1', 'r2', 'r3', 'r4', 'r5']);
  });

  it('fails every call of a failed batch and goes on with the next', async () => {
    let fail = true;
    const call = batcher(
      async (items: number[]) => {
        if (fail) {
          fail = false;
          throw new Error('connection lost');
        }
        return items.map((n) => n * 2);
      },
      { maxBatch: 10, concurrency: 1 },
    );
    const a = call(1);
    const b = call(2);
    await expect(a).rejects.toThrow('connection lost');
    await expect(b).rejects.toThrow('connection lost');
    expect(await call(3)).toBe(6);
  });

  it('rejects a batch whose result count does not match', async () => {
    const call = batcher(async (_items: number[]) => [1, 2], { maxBatch: 10, concurrency: 1 });
    await expect(call(1)).rejects.toThrow('batch of 1 got 2 results');
  });
});
