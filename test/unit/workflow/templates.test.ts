import { describe, expect, it } from 'vitest';
import { TemplateError } from '../../../src/errors.ts';
import {
  collectExpressions,
  evaluate,
  expressionSyntaxError,
  referencedTasks,
  render,
  scanTemplate,
  soleExpression,
  templateFunctions,
} from '../../../src/workflow/templates.ts';

const ctx = {
  ...templateFunctions,
  trigger: { body: { n: 3, tags: ['a', 'b'], text: '{"k": [1]}' } },
  tasks: { fetch: { output: { status: 200, body: { title: 'Hi' } }, status: 'succeeded' } },
};

describe('render', () => {
  it('yields the typed value for a string that is one expression', () => {
    expect(render('${trigger.body.n}', ctx)).toBe(3);
    expect(render('${trigger.body.tags}', ctx)).toEqual(['a', 'b']);
    expect(render({ x: ['${tasks.fetch.output.status == 200}'] }, ctx)).toEqual({ x: [true] });
  });

  it('interpolates into longer strings, objects as JSON', () => {
    expect(render('n=${trigger.body.n} tags=${trigger.body.tags}', ctx)).toBe('n=3 tags=["a","b"]');
  });

  it('keeps $${ as a literal ${', () => {
    expect(render('cost: $${HOME} ${trigger.body.n}', ctx)).toBe('cost: ${HOME} 3');
  });

  it('runs json-e operators, with ${} inside keeping types', () => {
    const t = { $map: '${trigger.body.tags}', 'each(t)': { name: '${uppercase(t)}' } };
    expect(render(t, ctx)).toEqual([{ name: 'A' }, { name: 'B' }]);
    expect(render({ $if: 'trigger.body.n > 2', then: 'big', else: 'small' }, ctx)).toBe('big');
    expect(render({ $eval: 'fromJSON(trigger.body.text).k' }, ctx)).toEqual([1]);
  });

  it('names the field and expression when data is missing', () => {
    let caught: unknown;
    try {
      render({ text: 'Title: ${tasks.fetch.output.body.titel}' }, ctx);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(TemplateError);
    expect((caught as TemplateError).message).toBe(
      'inputs.text: ${tasks.fetch.output.body.titel} failed: object has no property "titel"',
    );
    expect((caught as TemplateError).expression).toBe('tasks.fetch.output.body.titel');
  });
});

describe('fromJSON', () => {
  it('does not quote the invalid text (it may be a secret) in its error', () => {
    const secretCtx = { ...ctx, secrets: { TOKEN: '{"token": hunter2}' } };
    let caught: unknown;
    try {
      render('${fromJSON(secrets.TOKEN)}', secretCtx);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(TemplateError);
    expect((caught as Error).message).toContain('fromJSON: not valid JSON');
    expect((caught as Error).message).not.toContain('hunter2');
    expect(() => templateFunctions.fromJSON('{"a": s3cr3t}')).toThrow(/^fromJSON: not valid JSON$/);
  });
});

describe('parsing helpers', () => {
  it('scans expressions with nested braces and quotes', () => {
    const scan = scanTemplate('a ${ {"x": "}"}.x } b ${c}');
    expect(scan.expressions.map((e) => e.expr)).toEqual(['{"x": "}"}.x', 'c']);
    expect(scan.literals).toEqual(['a ', ' b ', '']);
    expect(scanTemplate('oops ${a.b').error).toBe('unterminated ${ ... } expression');
  });

  it('recognises a sole expression', () => {
    expect(soleExpression('${a.b}')).toBe('a.b');
    expect(soleExpression(' ${a.b}')).toBeUndefined();
    expect(soleExpression('${a} ${b}')).toBeUndefined();
  });

  it('reports syntax errors only', () => {
    expect(expressionSyntaxError('tasks.a.output')).toBeUndefined();
    expect(expressionSyntaxError('a +')).toBeDefined();
    expect(expressionSyntaxError('foo(')).toBeDefined();
    expect(expressionSyntaxError('')).toBe('empty ${ } expression');
  });

  it('finds task references, ignoring string literals', () => {
    expect(referencedTasks('tasks.a.output.x + steps.b.status')).toEqual(['a', 'b']);
    expect(referencedTasks('tasks["c"].output')).toEqual(['c']);
    expect(referencedTasks("'tasks.not_a_ref' + x")).toEqual([]);
  });

  it('does not read a property named tasks or steps as a task reference', () => {
    expect(referencedTasks('vars.tasks.deploy')).toEqual([]);
    expect(referencedTasks('trigger.body.steps.count + trigger.body. tasks.x')).toEqual([]);
    expect(referencedTasks('trigger.body["tasks"].a + vars.steps["b"]')).toEqual([]);
    expect(referencedTasks('len(tasks.a.output) + vars.tasks.b + (steps.c.status)')).toEqual(['a', 'c']);
  });

  it('collects expressions from a tree, including $eval and $if', () => {
    const found = collectExpressions(
      { a: 'x ${tasks.a.output}', b: [{ $eval: 'tasks.b.output' }], c: { $if: 'x', then: 1 } },
      'inputs',
    );
    expect(found).toEqual([
      { path: 'inputs.a', expr: 'tasks.a.output' },
      { path: 'inputs.b[0].$eval', expr: 'tasks.b.output' },
      { path: 'inputs.c.$if', expr: 'x' },
    ]);
  });

  it('evaluates bare and wrapped conditions', () => {
    expect(evaluate('tasks.fetch.output.status == 200', ctx, 'if')).toBe(true);
    expect(evaluate('${tasks.fetch.output.status != 200}', ctx, 'if')).toBe(false);
  });
});
