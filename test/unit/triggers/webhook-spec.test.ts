// biome-ignore-all lint/suspicious/noTemplateCurlyInString: workflow templates are written as ${...} inside plain strings
import { describe, expect, it } from 'vitest';
import { loadWorkflowText } from '../../../src/workflow/loader.ts';

const TASKS = 'tasks:\n  a: { run: echo hi }\n';

function load(webhook: string) {
  return loadWorkflowText(`on:\n  webhook: ${webhook}\n${TASKS}`, { file: 'w.yaml', defaultName: 'w' });
}
const messages = (webhook: string) => load(webhook).problems.map((p) => p.message);

describe('on.webhook', () => {
  it('accepts each preset and normalizes the old spellings', () => {
    expect(load('{ verify: github, secret: GH }').workflow?.triggers.webhook).toEqual({
      verify: 'github',
      secret: 'GH',
    });
    expect(load('{ verify: standard, secret: SW }').workflow?.triggers.webhook?.verify).toBe(
      'standard-webhooks',
    );
    expect(load('{ verify: standard-webhooks, secret: SW }').workflow?.triggers.webhook?.verify).toBe(
      'standard-webhooks',
    );
    expect(load('{ verify: stripe, secret: ST }').workflow?.triggers.webhook?.verify).toBe('stripe');
    expect(load('{ verify: hmac, secret: H }').workflow?.triggers.webhook).toEqual({
      verify: 'hmac-sha256',
      secret: 'H',
      header: 'x-signature',
      encoding: 'hex',
    });
    expect(load('').workflow?.triggers.webhook).toEqual({ verify: 'none' });
  });

  it('reads the hmac-sha256 options, a path, a schema and an idempotency key', () => {
    const { workflow, problems } = load(
      "{ verify: hmac-sha256, secret: ACME, header: X-Acme-Signature, encoding: base64, prefix: 'sha256=', path: acme/orders, schema: { type: object, required: [id] }, idempotency_key: 'order-${trigger.body.id}' }",
    );
    expect(problems).toEqual([]);
    expect(workflow?.triggers.webhook).toEqual({
      verify: 'hmac-sha256',
      secret: 'ACME',
      header: 'x-acme-signature',
      encoding: 'base64',
      prefix: 'sha256=',
      path: 'acme/orders',
      schema: { type: 'object', required: ['id'] },
      idempotencyKey: 'order-${trigger.body.id}',
    });
  });

  it('defaults to hmac-sha256 when only a secret is given', () => {
    expect(load('{ secret: S }').workflow?.triggers.webhook?.verify).toBe('hmac-sha256');
  });

  it('needs a secret for a signing preset and refuses one with none', () => {
    expect(messages('{ verify: github }')).toEqual([
      expect.stringContaining('verify: github needs "secret"'),
    ]);
    expect(messages('{ verify: none, secret: S }')).toEqual([
      expect.stringContaining('a secret is set but verify is none'),
    ]);
  });

  it('refuses hmac options on other presets', () => {
    expect(messages('{ verify: github, secret: S, header: X-Sig, encoding: hex }')).toEqual([
      expect.stringContaining('only verify: hmac-sha256 uses "header"'),
      expect.stringContaining('only verify: hmac-sha256 uses "encoding"'),
    ]);
  });

  it('refuses unknown presets and encodings', () => {
    expect(messages('{ verify: gitlab, secret: S }')[0]).toContain('"on.webhook.verify" must be one of');
    expect(messages('{ verify: hmac-sha256, secret: S, encoding: base32 }')[0]).toContain(
      '"on.webhook.encoding"',
    );
  });

  it('checks the path shape', () => {
    for (const bad of ['/leading', 'trailing/', 'a//b', 'a/../b', '..', 'sp ace', 'a?b']) {
      expect(messages(`{ path: '${bad}' }`), bad).toEqual([
        expect.stringContaining('a webhook path is segments'),
      ]);
    }
    for (const good of ['github/issues', 'a.b-c_d', 'v1/x.y'])
      expect(messages(`{ path: '${good}' }`)).toEqual([]);
  });

  it('checks the secret name', () => {
    expect(messages('{ verify: github, secret: my-secret }')).toEqual([
      expect.stringContaining('a secret name uses'),
    ]);
  });

  it('refuses a JSON Schema zod cannot use', () => {
    expect(messages('{ schema: { type: nonsense } }')).toEqual([
      expect.stringContaining('not a usable JSON Schema: Unsupported type: nonsense'),
    ]);
    expect(messages("{ schema: { $ref: 'https://example.com/s.json' } }")).toEqual([
      expect.stringContaining('External $ref is not supported'),
    ]);
  });

  it('checks the idempotency key expression', () => {
    expect(messages("{ idempotency_key: '${trigger.body.id' }")).toEqual([
      expect.stringContaining('unterminated'),
    ]);
    expect(messages("{ idempotency_key: '${tasks.a.output}' }")).toEqual([
      expect.stringContaining('reads "tasks"; an idempotency key can read only trigger'),
    ]);
    expect(messages("{ idempotency_key: 'trigger.body.(' }")).toEqual([
      expect.stringContaining('is not a valid expression'),
    ]);
    expect(messages('{ idempotency_key: "trigger.headers[\'x-id\']" }')).toEqual([]);
    expect(messages("{ idempotency_key: '${lowercase(fromJSON(trigger.body.payload).id)}' }")).toEqual([]);
    expect(messages("{ idempotency_key: '${trigerr.body.id}' }")).toEqual([
      expect.stringContaining('reads "trigerr"'),
    ]);
  });

  it('points at the offending key with a line and column', () => {
    const [problem] = load('{ verify: github }').problems;
    expect(problem).toMatchObject({ line: 2 });
  });
});
