// biome-ignore-all lint/suspicious/noTemplateCurlyInString: workflow templates are written as ${...} inside plain strings
import { describe, expect, it } from 'vitest';
import { TemplateError } from '../../../src/errors.ts';
import {
  checkBodySchema,
  findWebhookTarget,
  triggerHeaders,
  webhookIdempotencyKey,
  webhookOperations,
} from '../../../src/triggers/webhook-targets.ts';
import { FixedRegistry } from '../../helpers/webhook-app.ts';

const wf = (name: string, webhook?: string, extra = '') =>
  `name: ${name}\n${extra}${webhook === undefined ? '' : `on:\n  webhook: ${webhook}\n`}tasks:\n  a: { run: echo hi }\n`;

function registry(): FixedRegistry {
  const r = new FixedRegistry();
  r.add(wf('b-plain', ''));
  r.add(wf('a-github', '{ verify: github, secret: GH, path: github/issues }', 'description: Issues\n'));
  r.add(
    wf(
      'c-typed',
      '{ verify: hmac-sha256, secret: S, header: X-Acme, schema: { type: object, required: [id] } }',
    ),
  );
  r.add(wf('github/issues', ''));
  r.add(wf('no-hook'));
  return r;
}

describe('findWebhookTarget', () => {
  it('matches a custom path first, then a name', () => {
    const r = registry();
    expect(findWebhookTarget(r, 'github/issues')).toMatchObject({
      kind: 'found',
      workflow: { name: 'a-github' },
    });
    expect(findWebhookTarget(r, 'a-github')).toMatchObject({ kind: 'found', workflow: { name: 'a-github' } });
    expect(findWebhookTarget(r, 'b-plain')).toMatchObject({ kind: 'found', hook: { verify: 'none' } });
    expect(findWebhookTarget(r, 'nope')).toEqual({ kind: 'unknown' });
    expect(findWebhookTarget(r, 'no-hook')).toEqual({ kind: 'no-webhook', name: 'no-hook' });
  });

  it('reports a file with problems as invalid, by name or by the path of its last good version', () => {
    const r = registry();
    const good = r.workflows().get('a-github');
    const problems = [{ file: '/wf/x.yaml', line: 1, column: 1, message: 'broken' }];
    r.entries().splice(0, r.entries().length, ...r.entries().filter((e) => e.name !== 'a-github'));
    r.addBroken('a-github', problems, good);
    expect(findWebhookTarget(r, 'github/issues')).toEqual({ kind: 'invalid', name: 'a-github', problems });
    expect(findWebhookTarget(r, 'a-github')).toEqual({ kind: 'invalid', name: 'a-github', problems });
  });
});

describe('webhookOperations', () => {
  it('lists one operation per webhook workflow with its path, headers and schema', () => {
    expect(webhookOperations(registry())).toEqual([
      {
        path: '/hooks/b-plain',
        workflow: 'b-plain',
        verify: 'none',
        signatureHeaders: [],
      },
      {
        path: '/hooks/c-typed',
        workflow: 'c-typed',
        verify: 'hmac-sha256',
        signatureHeaders: ['x-acme'],
        bodySchema: { type: 'object', required: ['id'] },
      },
      {
        path: '/hooks/github/issues',
        workflow: 'a-github',
        description: 'Issues',
        verify: 'github',
        signatureHeaders: ['X-Hub-Signature-256'],
      },
      { path: '/hooks/github/issues', workflow: 'github/issues', verify: 'none', signatureHeaders: [] },
    ]);
  });
});

describe('webhookIdempotencyKey', () => {
  const trigger = { type: 'webhook' as const, body: { id: 5, nested: { a: [1] } }, headers: {}, query: {} };

  it('prefers the expression, then X-GitHub-Delivery, webhook-id, Idempotency-Key', () => {
    const all = new Headers({ 'x-github-delivery': 'g', 'webhook-id': 'w', 'idempotency-key': 'i' });
    expect(
      webhookIdempotencyKey({ verify: 'none', idempotencyKey: 'k-${trigger.body.id}' }, trigger, all),
    ).toBe('k-5');
    expect(webhookIdempotencyKey({ verify: 'none' }, trigger, all)).toBe('g');
    expect(
      webhookIdempotencyKey(
        { verify: 'none' },
        trigger,
        new Headers({ 'webhook-id': 'w', 'idempotency-key': 'i' }),
      ),
    ).toBe('w');
    expect(webhookIdempotencyKey({ verify: 'none' }, trigger, new Headers({ 'idempotency-key': 'i' }))).toBe(
      'i',
    );
    expect(webhookIdempotencyKey({ verify: 'none' }, trigger, new Headers())).toBeUndefined();
  });

  it('turns numbers and objects into text, and treats null or empty as no key', () => {
    const h = new Headers();
    expect(webhookIdempotencyKey({ verify: 'none', idempotencyKey: 'trigger.body.id' }, trigger, h)).toBe(
      '5',
    );
    expect(
      webhookIdempotencyKey({ verify: 'none', idempotencyKey: '${trigger.body.nested}' }, trigger, h),
    ).toBe('{"a":[1]}');
    expect(webhookIdempotencyKey({ verify: 'none', idempotencyKey: 'null' }, trigger, h)).toBeUndefined();
    expect(webhookIdempotencyKey({ verify: 'none', idempotencyKey: "''" }, trigger, h)).toBeUndefined();
  });

  it('can call the template functions', () => {
    const form = { ...trigger, body: { payload: '{"id":"AbC"}' } };
    const hook = { verify: 'none' as const, idempotencyKey: 'lowercase(fromJSON(trigger.body.payload).id)' };
    expect(webhookIdempotencyKey(hook, form, new Headers())).toBe('abc');
  });

  it('throws a TemplateError when the data is missing', () => {
    expect(() =>
      webhookIdempotencyKey(
        { verify: 'none', idempotencyKey: 'trigger.body.missing.deeper' },
        trigger,
        new Headers(),
      ),
    ).toThrow(TemplateError);
  });
});

describe('checkBodySchema and triggerHeaders', () => {
  it('lists problems with readable paths', () => {
    const hook = {
      verify: 'none' as const,
      schema: { type: 'object', properties: { items: { type: 'array', items: { type: 'integer' } } } },
    };
    expect(checkBodySchema(hook, { items: [1, 'x'] })).toEqual([
      { path: 'items[1]', message: expect.any(String) },
    ]);
    expect(checkBodySchema(hook, { items: [1] })).toEqual([]);
    expect(checkBodySchema({ verify: 'none' }, 'anything')).toEqual([]);
  });

  it('drops credentials meant for Baton and keeps the rest', () => {
    const headers = new Headers({
      Authorization: 'x',
      Cookie: 'y',
      'Proxy-Authorization': 'z',
      'X-Hub-Signature-256': 's',
    });
    expect(triggerHeaders(headers)).toEqual({ 'x-hub-signature-256': 's' });
  });
});
