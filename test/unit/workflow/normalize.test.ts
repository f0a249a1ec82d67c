import { describe, expect, it } from 'vitest';
import { render } from '../../../src/workflow/templates.ts';
import { makeWorkflow } from '../../helpers/workflow.ts';

describe('normalizeWorkflow', () => {
  it('turns steps into a chain with default ids', () => {
    const wf = makeWorkflow({
      steps: [{ run: 'echo 1' }, { id: 'two', run: 'echo 2' }, { action: 'log', inputs: { message: 'x' } }],
    });
    expect(wf.tasks.map((t) => [t.id, t.dependsOn])).toEqual([
      ['step_1', []],
      ['two', ['step_1']],
      ['step_3', ['two']],
    ]);
  });

  it('moves every ${expr} of run: into the environment, reusing repeated ones', () => {
    const wf = makeWorkflow({
      tasks: {
        a: {
          run: 'echo "${trigger.body.x}" && echo ${trigger.body.x} $${HOME} ${tasks.b.output}',
          env: { K: 'v' },
        },
      },
    });
    expect(wf.tasks[0]).toMatchObject({
      action: 'shell',
      inputs: {
        command: 'echo "$${BATON_V1}" && echo $${BATON_V1} $${HOME} $${BATON_V2}',
        env: { K: 'v', BATON_V1: '${trigger.body.x}', BATON_V2: '${tasks.b.output}' },
      },
    });
  });

  it('renders the command back to plain shell variables', () => {
    const wf = makeWorkflow({ tasks: { a: { run: 'echo "${trigger.x}" $${HOME}' } } });
    expect(render(wf.tasks[0]?.inputs.command, { trigger: { x: '$(touch /tmp/p)' } })).toBe(
      'echo "${BATON_V1}" ${HOME}',
    );
  });

  it('merges defaults into each task and parses durations', () => {
    const wf = makeWorkflow({
      timeout: '15m',
      defaults: { retry: { attempts: 3, delay: '2s', backoff: 'constant' }, timeout: '1m' },
      tasks: { a: { run: 'true' }, b: { run: 'true', retry: 5, timeout: '90s' } },
    });
    expect(wf.timeoutMs).toBe(900_000);
    expect(wf.tasks[0]).toMatchObject({
      timeoutMs: 60_000,
      retry: { attempts: 3, delayMs: 2000, backoff: 'constant' },
    });
    expect(wf.tasks[1]).toMatchObject({ timeoutMs: 90_000, retry: { attempts: 5, delayMs: 2000 } });
  });
});
