import { z } from 'zod';
import { defineAction } from '../src/plugins/define-action.ts';
import { toText } from '../src/workflow/templates.ts';

const input = z.strictObject({
  message: z.json().describe('Text to log; objects and lists are logged as JSON.'),
  level: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
});

const output = z.object({ message: z.string().describe('The line as logged.') });

export default defineAction({
  name: 'log',
  description:
    'Writes a line to the task log at the given level (debug, info, warn, error); objects are logged as JSON.',
  input,
  output,
  run(ctx) {
    const message = toText(ctx.input.message);
    ctx.log[ctx.input.level](message);
    return { message };
  },
});
