import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiContext, createApiContext, json } from './api-context.ts';

let ctx: ApiContext;
beforeAll(async () => {
  ctx = await createApiContext();
});
afterAll(async () => {
  await ctx?.cleanup();
});

describe('GET /api/actions', () => {
  it('lists every action with JSON Schemas of inputs and outputs, and the files that failed', async () => {
    ctx.registry.actionLoadProblems.push({
      file: '/actions/broken.ts',
      message: 'could not be loaded: boom',
    });
    const { status, body } = await ctx.call('GET', '/api/actions');
    expect(status).toBe(200);
    const names = body.actions.map((a: { name: string }) => a.name);
    expect(names).toEqual([...names].sort());
    expect(names).toEqual(expect.arrayContaining(['http.request', 'shell', 'test.step', 'test.transform']));
    expect(body.problems).toContainEqual({
      file: '/actions/broken.ts',
      message: 'could not be loaded: boom',
    });

    const step = body.actions.find((a: { name: string }) => a.name === 'test.step');
    expect(step).toMatchObject({
      description: 'Records that it ran; fails on demand',
      secrets: [],
      input_schema: {
        type: 'object',
        properties: { label: { type: 'string' }, flaky: { type: 'boolean', default: false } },
        required: ['label'],
      },
      output_schema: { type: 'object', required: ['label', 'doubled'] },
    });

    const email = body.actions.find((a: { name: string }) => a.name === 'email.send');
    expect(email.secrets).toEqual(['SMTP_URL']);
  });

  it('describes schemas with transforms by their input side, and unrepresentable parts as {}', async () => {
    const { body } = await ctx.call('GET', '/api/actions');
    const t = body.actions.find((a: { name: string }) => a.name === 'test.transform');
    expect(t.input_schema.properties.when).toEqual({ type: 'string' });
    expect(t.input_schema.properties.count).toMatchObject({ type: 'integer', minimum: 1, default: 3 });
    expect(t.input_schema.required).toEqual(['when']);
    expect(t.output_schema.properties.at).toEqual({});
  });
});

const BAD = `name: checked
tasks:
  fetch:
    action: test.step
    inputs: { label: 1 }
  notify:
    action: no.such.action
    depends_on: [fetch]
`;

describe('POST /api/validate', () => {
  it('takes YAML text and answers the problems with positions (200)', async () => {
    const res = await ctx.app.request('/api/validate', {
      method: 'POST',
      headers: { 'content-type': 'application/yaml' },
      body: BAD,
    });
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body.valid).toBe(false);
    expect(body.name).toBeNull();
    expect(body.problems).toEqual([
      expect.objectContaining({ file: 'workflow.yaml', line: 5, message: expect.stringContaining('label') }),
      expect.objectContaining({
        file: 'workflow.yaml',
        line: 7,
        message: expect.stringContaining('no.such.action'),
      }),
    ]);
    expect(body.problems[0].column).toBeGreaterThan(1);
  });

  it('takes JSON { yaml, name } and answers valid with the name', async () => {
    const { status, body } = await ctx.call('POST', '/api/validate', {
      yaml: 'tasks:\n  a:\n    action: test.step\n    inputs: { label: x }\n',
      name: 'ops/nightly',
    });
    expect(status).toBe(200);
    expect(body).toEqual({ valid: true, name: 'ops/nightly', problems: [] });
  });

  it('labels problems of a YAML body with ?name=, and reports YAML syntax errors', async () => {
    const res = await ctx.app.request('/api/validate?name=broken', {
      method: 'POST',
      headers: { 'content-type': 'text/yaml' },
      body: 'tasks:\n  a: [\n',
    });
    const body = await json(res);
    expect(res.status).toBe(200);
    expect(body.valid).toBe(false);
    expect(body.problems[0]).toMatchObject({ file: 'broken.yaml', message: expect.stringContaining('YAML') });
  });

  it('422s a JSON body without yaml, 400s malformed JSON, 415s other media types', async () => {
    const missing = await ctx.call('POST', '/api/validate', { name: 'x' });
    expect(missing.status).toBe(422);
    expect(missing.body.error.details.issues[0]).toMatchObject({ path: 'yaml' });
    const malformed = await ctx.call('POST', '/api/validate', '{"yaml":', {
      'content-type': 'application/json',
    });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe('validation');
    const xml = await ctx.call('POST', '/api/validate', '<x/>', { 'content-type': 'application/xml' });
    expect(xml.status).toBe(415);
  });
});
