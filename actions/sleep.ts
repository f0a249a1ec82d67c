import { z } from 'zod';
import { sleep } from '../src/plugins/abort.ts';
import { defineAction } from '../src/plugins/define-action.ts';
import { parseDuration } from '../src/util/duration.ts';

const MAX_MS = 24 * 3_600_000;

const input = z.strictObject({
  duration: z
    .union([z.string(), z.number()])
    .superRefine((value, ctx) => {
      const ms = parseDuration(value);
      if (ms === undefined) {
        ctx.addIssue({
          code: 'custom',
          message: `invalid duration ${JSON.stringify(value)}: use e.g. 500ms, 30s, 5m, 1h30m, or a number of milliseconds`,
        });
      } else if (ms > MAX_MS) {
        ctx.addIssue({
          code: 'custom',
          message: `duration ${JSON.stringify(value)} is longer than the maximum of 24h`,
        });
      }
    })
    .describe('How long to wait: 500ms, 30s, 5m, 1h30m, or a number of milliseconds; at most 24h.'),
});

const output = z.object({ slept_ms: z.number().int().describe('The duration waited, in milliseconds.') });

export default defineAction({
  name: 'sleep',
  description:
    'Waits for a duration (at most 24h) before the workflow goes on; a timeout or cancel ends the wait at once.',
  input,
  output,
  async run(ctx) {
    const ms = parseDuration(ctx.input.duration) ?? 0; // the schema has checked it parses
    await sleep(ms, ctx.signal);
    return { slept_ms: ms };
  },
});
