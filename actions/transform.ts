import { z } from 'zod';
import { BatonError, NonRetriableError } from '../src/errors.ts';
import { defineAction } from '../src/plugins/define-action.ts';
import { render } from '../src/workflow/templates.ts';

const input = z.strictObject({
  template: z
    .json()
    .describe('Any JSON value. Rendered once more, against `context`, only when `context` is given.'),
  context: z
    .record(z.string(), z.json())
    .optional()
    .describe(
      'Names the second rendering of `template` may use, e.g. `{ items: "${tasks.fetch.output.body}" }`.',
    ),
});

const output = z.object({ result: z.json() });

export default defineAction({
  name: 'transform',
  description:
    'Shapes data with json-e. Task inputs are already rendered against the run (trigger, tasks, vars), so ' +
    'without `context` the rendered `template` is returned as `result` unchanged. With `context`, the ' +
    'template is rendered a second time against it alone: escape what is meant for that second pass ' +
    'with `$$` (`$${item.name}`, `$$map`, `$$eval`) so the first rendering leaves it in place.',
  input,
  output,
  run(ctx) {
    const { template, context } = ctx.input;
    if (context === undefined) return { result: template };
    try {
      return { result: render(template, context, 'template') as z.infer<typeof output>['result'] };
    } catch (err) {
      // Same data, same template: another attempt would fail the same way.
      const details = err instanceof BatonError ? err.details : undefined;
      throw new NonRetriableError((err as Error).message, { cause: err, details });
    }
  },
});
