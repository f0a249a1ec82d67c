// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Baton templates and shell variables are data here
import { describe, expect, it } from 'vitest';
import transform from '../../../actions/transform.ts';
import { NonRetriableError } from '../../../src/errors.ts';
import { render } from '../../../src/workflow/templates.ts';
import { callAction } from '../../helpers/action-context.ts';

describe('transform action', () => {
  it('returns the (already rendered) template as result when no context is given', async () => {
    const template = { title: 'Bug', labels: ['a', 'b'], count: 2, open: true, owner: null };
    const { output } = await callAction(transform, { template });
    expect(output).toEqual({ result: template });
    // `${...}` left in a template without context is data, not rendered again.
    expect((await callAction(transform, { template: '${x}' })).output).toEqual({ result: '${x}' });
  });

  it('renders the template against context when one is given', async () => {
    const template = {
      names: { $map: { $eval: 'items' }, 'each(x)': '${x.name}' },
      total: { $eval: 'len(items)' },
      summary: '${len(items)} items for ${owner}',
    };
    const context = { items: [{ name: 'a' }, { name: 'b' }], owner: 'ops' };
    const { output } = await callAction(transform, { template, context });
    expect(output.result).toEqual({ names: ['a', 'b'], total: 2, summary: '2 items for ops' });
  });

  it('works after the executor rendered the inputs, with $$-escaped operators for the second pass', async () => {
    // What a workflow holds: the first rendering fills `context`, the escapes survive it.
    const inputs = {
      template: { $$map: { $$eval: 'items' }, 'each(x)': { id: '$${x.id}', label: 'issue $${x.id}' } },
      context: { items: '${tasks.fetch.output.body}' },
    };
    const run = { tasks: { fetch: { output: { body: [{ id: 1 }, { id: 2 }] } } } };
    const rendered = render(inputs, run);
    const { output } = await callAction(transform, rendered);
    expect(output.result).toEqual([
      { id: 1, label: 'issue 1' },
      { id: 2, label: 'issue 2' },
    ]);
  });

  it('fails without retry when the template cannot be rendered against the context', async () => {
    const failing = callAction(transform, { template: '${missing.field}', context: {} });
    await expect(failing).rejects.toBeInstanceOf(NonRetriableError);
    await expect(failing).rejects.toThrow(
      /template: \$\{missing\.field\} failed: unknown context value missing/,
    );
  });
});
