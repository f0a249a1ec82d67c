import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { MemorySink } from '../../../src/engine/events.ts';
import { executeRun } from '../../../src/engine/executor.ts';
import { type AnyAction, defineAction } from '../../../src/plugins/define-action.ts';
import { makeWorkflow } from '../../helpers/workflow.ts';

const SECRET = 'p@ss w0rd/with+chars';
const OTHER = 'undeclared-secret-value';

const leaky = defineAction({
  name: 'leaky',
  description: 'writes its secret in every encoding to logs, output and error',
  input: z.object({ header: z.string(), fail: z.boolean().default(false) }),
  output: z.object({ b64: z.string(), url: z.string(), seen: z.array(z.string()) }),
  secrets: ['DECLARED'],
  run(ctx) {
    const value = ctx.secrets.DECLARED ?? '';
    const b64 = Buffer.from(`user:${value}`).toString('base64');
    ctx.log.info(`raw ${value}; basic ${b64}; url ${encodeURIComponent(value)}`);
    if (ctx.input.fail)
      throw new Error(`rejected ${encodeURIComponent(value)} as ${Buffer.from(value).toString('base64')}`);
    return {
      b64,
      url: `https://x.test/?t=${new URLSearchParams({ v: value }).toString()}`,
      seen: Object.keys(ctx.secrets),
    };
  },
});

function run(fail: boolean) {
  const sink = new MemorySink();
  const workflow = makeWorkflow({
    tasks: { a: { action: 'leaky', inputs: { header: 'Bearer ${secrets.DECLARED}', fail } } },
  });
  const actions = new Map<string, AnyAction>([['leaky', leaky]]);
  const result = executeRun({
    workflow,
    actions,
    runId: 'run-s',
    trigger: { type: 'manual', inputs: {} },
    secrets: { DECLARED: SECRET, OTHER },
    events: sink,
    env: { filesDir: '/nonexistent', httpAllow: [], outputLimitBytes: 64 * 1024 },
  });
  return { sink, result };
}

/** Every form a leak could take. */
const forms = (v: string) => [
  v,
  Buffer.from(v).toString('base64'),
  Buffer.from(v).toString('base64').replace(/=+$/, ''),
  encodeURIComponent(v),
  new URLSearchParams({ v }).toString().slice(2),
];

describe('secrets in a run', () => {
  it('an action sees only the secrets it declares', async () => {
    const { result } = run(false);
    expect((await result).tasks.a?.output).toMatchObject({ seen: ['DECLARED'] });
  });

  it('masks raw, base64 and URL-encoded forms in stored input, output and logs', async () => {
    const { sink, result } = run(false);
    await result;
    const all = JSON.stringify(sink.events);
    for (const form of forms(SECRET)) expect(all).not.toContain(form);
    expect(sink.tasks('a').find((e) => e.status === 'running')?.input).toMatchObject({
      header: 'Bearer ***',
    });
    expect(sink.logs('a')[0]?.message).toContain('raw ***;');
    expect(sink.logs('a')[0]?.message).toContain('url ***');
  });

  it('masks them in errors', async () => {
    const { sink, result } = run(true);
    const r = await result;
    expect(r.tasks.a?.error?.message).toBe('rejected *** as ***');
    for (const form of forms(SECRET)) expect(JSON.stringify(sink.events)).not.toContain(form);
  });
});
