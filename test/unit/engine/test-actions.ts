import { z } from 'zod';
import { NonRetriableError, RetryAfterError } from '../../../src/errors.ts';
import { sleep } from '../../../src/plugins/abort.ts';
import { type AnyAction, defineAction } from '../../../src/plugins/define-action.ts';

export interface Span {
  task: string;
  start: number;
  end: number;
}

/** Test actions that record what happened, so tests assert on real timings and calls. */
export function testActions() {
  const spans: Span[] = [];
  const calls: Record<string, number> = {};
  let active = 0;
  let maxActive = 0;

  const work = defineAction({
    name: 'work',
    description: 'sleeps for `ms` honouring the signal, records its span',
    input: z.object({ ms: z.number().default(0), value: z.unknown().optional() }),
    output: z.object({ value: z.unknown().optional(), task: z.string() }),
    async run(ctx) {
      const start = performance.now();
      active += 1;
      maxActive = Math.max(maxActive, active);
      try {
        await sleep(ctx.input.ms, ctx.signal);
      } finally {
        active -= 1;
        spans.push({ task: ctx.task.id, start, end: performance.now() });
      }
      return { value: ctx.input.value, task: ctx.task.id };
    },
  });

  const flaky = defineAction({
    name: 'flaky',
    description: 'fails until attempt `succeed_on`',
    input: z.object({
      succeed_on: z.number(),
      kind: z.enum(['plain', 'fatal', 'retry_after']).default('plain'),
    }),
    output: z.object({ attempt: z.number() }),
    run(ctx) {
      calls[ctx.task.id] = (calls[ctx.task.id] ?? 0) + 1;
      if (ctx.attempt >= ctx.input.succeed_on) return { attempt: ctx.attempt };
      if (ctx.input.kind === 'fatal') throw new NonRetriableError('bad credentials');
      if (ctx.input.kind === 'retry_after') throw new RetryAfterError('rate limited', 80);
      throw new Error(`boom on attempt ${ctx.attempt}`);
    },
  });

  const stubborn = defineAction({
    name: 'stubborn',
    description: 'ignores its abort signal entirely',
    input: z.object({}),
    output: z.object({}),
    run: () => new Promise<Record<string, never>>(() => {}),
  });

  const echo = defineAction({
    name: 'echo',
    description: 'returns its input and logs it',
    input: z.object({ message: z.unknown(), count: z.number().optional() }),
    output: z.object({ message: z.unknown() }),
    secrets: ['TOKEN'],
    run(ctx) {
      ctx.log.info(`echo ${JSON.stringify(ctx.input.message)} token=${ctx.secrets.TOKEN ?? 'none'}`);
      return { message: ctx.input.message };
    },
  });

  const badOutput = defineAction({
    name: 'bad_output',
    description: 'returns output that breaks its own schema',
    input: z.object({}),
    output: z.object({ n: z.number() }),
    run: () => ({ n: 'not a number' }) as unknown as { n: number },
  });

  const actions = new Map<string, AnyAction>([
    ['work', work],
    ['flaky', flaky],
    ['stubborn', stubborn],
    ['echo', echo],
    ['bad_output', badOutput],
  ]);
  return { actions, spans, calls, maxActive: () => maxActive };
}
