import { describe, expect, it } from 'vitest';
import { MemorySink, type TaskStatusEvent } from '../../../src/engine/events.ts';
import { executeRun } from '../../../src/engine/executor.ts';
import type { ExecuteOptions, TaskResult } from '../../../src/engine/types.ts';
import type { Workflow } from '../../../src/workflow/types.ts';
import { makeWorkflow } from '../../helpers/workflow.ts';
import { type Span, testActions } from './test-actions.ts';

function setup(workflow: Workflow, extra: Partial<ExecuteOptions> = {}) {
  const kit = testActions();
  const sink = new MemorySink();
  const run = () =>
    executeRun({
      workflow,
      actions: kit.actions,
      runId: 'run-1',
      trigger: { type: 'manual', inputs: { who: 'ada' } },
      secrets: { TOKEN: 's3cr3t-token-value' },
      events: sink,
      env: { filesDir: '/nonexistent', httpAllow: [], outputLimitBytes: 64 * 1024 },
      ...extra,
    });
  return { ...kit, sink, run };
}

const span = (spans: Span[], id: string) => {
  const s = spans.find((x) => x.task === id);
  if (!s) throw new Error(`task ${id} did not run`);
  return s;
};

const statuses = (sink: MemorySink, id: string) => sink.tasks(id).map((e) => e.status);

describe('scheduling', () => {
  it('runs the five-task pipeline in dependency order, B and D in parallel', async () => {
    const wf = makeWorkflow({
      tasks: {
        A: { action: 'work', inputs: { ms: 10 } },
        B: { action: 'work', depends_on: ['A'], inputs: { ms: 60 } },
        D: { action: 'work', depends_on: ['A'], inputs: { ms: 200 } },
        C: { action: 'work', depends_on: ['B'], inputs: { ms: 10 } },
        E: { action: 'work', depends_on: ['C', 'D'], inputs: { ms: 10 } },
      },
    });
    const { run, spans, sink } = setup(wf);
    const result = await run();
    expect(result.status).toBe('succeeded');
    const [a, b, c, d, e] = ['A', 'B', 'C', 'D', 'E'].map((id) => span(spans, id)) as [
      Span,
      Span,
      Span,
      Span,
      Span,
    ];
    expect(b.start).toBeGreaterThanOrEqual(a.end);
    expect(d.start).toBeGreaterThanOrEqual(a.end);
    // B and D overlap: each starts before the other ends.
    expect(b.start).toBeLessThan(d.end);
    expect(d.start).toBeLessThan(b.end);
    // Kahn, not level by level: C starts as soon as B ends, while D is still running.
    expect(c.start).toBeLessThan(d.end);
    expect(e.start).toBeGreaterThanOrEqual(Math.max(c.end, d.end));
    const runEvents = sink.events.filter((x) => x.type === 'run.status');
    expect(runEvents.map((x) => x.status)).toEqual(['running', 'succeeded']);
    expect(runEvents[0]?.type === 'run.status' && runEvents[0].plan).toEqual([
      ['A'],
      ['B', 'D'],
      ['C'],
      ['E'],
    ]);
  });

  it('never runs more tasks at once than the parallelism limit', async () => {
    const tasks = Object.fromEntries(
      ['a', 'b', 'c', 'd', 'e', 'f'].map((id) => [id, { action: 'work', inputs: { ms: 30 } }]),
    );
    const { run, maxActive, spans } = setup(makeWorkflow({ parallelism: 2, tasks }));
    expect((await run()).status).toBe('succeeded');
    expect(spans).toHaveLength(6);
    expect(maxActive()).toBe(2);
  });

  it('passes outputs downstream through templates, keeping types', async () => {
    const wf = makeWorkflow({
      tasks: {
        a: { action: 'echo', inputs: { message: { n: 2, list: [1, 2] } } },
        b: {
          action: 'echo',
          depends_on: ['a'],
          inputs: { message: '${tasks.a.output.message.list}', count: '${tasks.a.output.message.n}' },
        },
        c: {
          action: 'echo',
          depends_on: ['b'],
          inputs: { message: 'hi ${trigger.inputs.who}: ${steps.b.output.message}' },
        },
      },
    });
    const { run } = setup(wf);
    const result = await run();
    expect(result.tasks.b?.output).toEqual({ message: [1, 2] });
    expect(result.tasks.c?.output).toEqual({ message: 'hi ada: [1,2]' });
  });
});

describe('failure handling', () => {
  it('skips dependents of a failed task, with the reason, and honours when:', async () => {
    const wf = makeWorkflow({
      tasks: {
        a: { action: 'flaky', inputs: { succeed_on: 99 } },
        b: { action: 'work', depends_on: ['a'] },
        c: { action: 'work', depends_on: ['b'] },
        cleanup: { action: 'work', depends_on: ['a'], when: 'always' },
        alert: { action: 'work', depends_on: ['c'], when: 'on_failure' },
        happy_only_alert: { action: 'work', depends_on: ['cleanup'], when: 'on_failure' },
      },
    });
    const { run, sink } = setup(wf);
    const result = await run();
    expect(result.status).toBe('failed');
    expect(result.error?.message).toContain('task "a" failed: boom on attempt 1');
    expect(result.tasks.b).toMatchObject({ status: 'skipped', reason: 'upstream task "a" failed' });
    expect(result.tasks.c).toMatchObject({ status: 'skipped', reason: 'upstream task "b" was skipped' });
    expect(result.tasks.cleanup?.status).toBe('succeeded');
    // on_failure sees a failure further up, through the skipped chain.
    expect(result.tasks.alert?.status).toBe('succeeded');
    expect(result.tasks.happy_only_alert).toMatchObject({
      status: 'skipped',
      reason: expect.stringContaining('no upstream task failed'),
    });
    expect(statuses(sink, 'b')).toEqual(['pending', 'skipped']);
  });

  it('continue_on_error lets the run go on and succeed', async () => {
    const wf = makeWorkflow({
      tasks: {
        a: { action: 'flaky', inputs: { succeed_on: 99 }, continue_on_error: true },
        b: { action: 'echo', depends_on: ['a'], inputs: { message: '${tasks.a.status}' } },
      },
    });
    const result = await setup(wf).run();
    expect(result.status).toBe('succeeded');
    expect(result.tasks.a?.status).toBe('failed');
    expect(result.tasks.b?.output).toEqual({ message: 'failed' });
  });

  it('evaluates if: and skips when false', async () => {
    const wf = makeWorkflow({
      tasks: {
        a: { action: 'echo', inputs: { message: 200 } },
        yes: { action: 'work', depends_on: ['a'], if: '${tasks.a.output.message == 200}' },
        no: { action: 'work', depends_on: ['a'], if: 'tasks.a.output.message > 500' },
      },
    });
    const result = await setup(wf).run();
    expect(result.tasks.yes?.status).toBe('succeeded');
    expect(result.tasks.no).toMatchObject({
      status: 'skipped',
      reason: 'if condition was false: tasks.a.output.message > 500',
    });
    expect(result.status).toBe('succeeded');
  });
});

describe('retries', () => {
  it('retries with a new attempt each time and succeeds', async () => {
    const wf = makeWorkflow({
      tasks: { a: { action: 'flaky', inputs: { succeed_on: 3 }, retry: { attempts: 3, delay: '10ms' } } },
    });
    const { run, sink, calls } = setup(wf);
    const result = await run();
    expect(result.tasks.a).toMatchObject({ status: 'succeeded', attempts: 3, output: { attempt: 3 } });
    expect(calls.a).toBe(3);
    expect(statuses(sink, 'a')).toEqual([
      'pending',
      'running',
      'failed',
      'running',
      'failed',
      'running',
      'succeeded',
    ]);
    const failedAttempts = sink.tasks('a').filter((e) => e.status === 'failed');
    expect(failedAttempts.map((e) => e.attempt)).toEqual([1, 2]);
    expect(failedAttempts.every((e) => typeof e.retryAt === 'string')).toBe(true);
  });

  it('stops at NonRetriableError', async () => {
    const wf = makeWorkflow({
      tasks: {
        a: {
          action: 'flaky',
          inputs: { succeed_on: 3, kind: 'fatal' },
          retry: { attempts: 5, delay: '1ms' },
        },
      },
    });
    const { run, calls } = setup(wf);
    const result = await run();
    expect(result.tasks.a).toMatchObject({
      status: 'failed',
      attempts: 1,
      error: { message: 'bad credentials' },
    });
    expect(calls.a).toBe(1);
  });

  it('waits as long as RetryAfterError asks', async () => {
    const wf = makeWorkflow({
      tasks: {
        a: {
          action: 'flaky',
          inputs: { succeed_on: 2, kind: 'retry_after' },
          retry: { attempts: 2, delay: '1ms' },
        },
      },
    });
    const { run, sink } = setup(wf);
    const result = await run();
    expect(result.tasks.a?.status).toBe('succeeded');
    const [failed, second] = sink
      .tasks('a')
      .filter((e) => e.attempt > 0 && e.status !== 'pending')
      .slice(1);
    const waited = Date.parse((second as TaskStatusEvent).at) - Date.parse((failed as TaskStatusEvent).at);
    expect(waited).toBeGreaterThanOrEqual(75);
  });

  it('does not retry a template that reads missing data, and names task field and expression', async () => {
    const wf = makeWorkflow({
      tasks: {
        a: { action: 'echo', inputs: { message: { x: 1 } } },
        b: {
          action: 'echo',
          depends_on: ['a'],
          retry: 3,
          inputs: { message: 'value: ${tasks.a.output.message.nope}' },
        },
      },
    });
    const { run, sink } = setup(wf);
    const result = await run();
    expect(result.tasks.b?.status).toBe('failed');
    expect(result.tasks.b?.attempts).toBe(1);
    expect(result.tasks.b?.error?.message).toBe(
      'inputs.message: ${tasks.a.output.message.nope} failed: object has no property "nope"',
    );
    expect(result.error?.message).toContain('task "b" failed');
    expect(sink.tasks('b').filter((e) => e.status === 'running')).toHaveLength(1);
  });

  it('fails clearly on input the action rejects, and on output that breaks its schema', async () => {
    const wf = makeWorkflow({
      tasks: {
        a: { action: 'work', inputs: { ms: 'soon' } },
        b: { action: 'bad_output' },
      },
    });
    const result = await setup(wf).run();
    expect(result.tasks.a?.error?.message).toMatch(/^work rejected its input: input "ms": /);
    expect(result.tasks.b?.error?.message).toMatch(
      /bad_output returned output that does not match its schema/,
    );
  });
});

describe('timeouts and cancellation', () => {
  it('times out a task through its signal, and one that ignores the signal too', async () => {
    const wf = makeWorkflow({
      tasks: {
        polite: { action: 'work', inputs: { ms: 10_000 }, timeout: '50ms' },
        rude: { action: 'stubborn', timeout: '50ms' },
        after: { action: 'work', depends_on: ['polite'] },
      },
    });
    const started = Date.now();
    const result = await setup(wf).run();
    // "rude" ignores its signal: the task still ends, after the bounded cleanup wait (3s).
    expect(Date.now() - started).toBeLessThan(4500);
    expect(result.tasks.polite).toMatchObject({
      status: 'timed_out',
      error: { code: 'timeout', message: 'task "polite" timed out after 50ms' },
    });
    expect(result.tasks.rude?.status).toBe('timed_out');
    expect(result.tasks.after).toMatchObject({
      status: 'skipped',
      reason: 'upstream task "polite" timed out',
    });
    expect(result.status).toBe('failed');
  });

  it('retries a timed-out attempt when attempts remain', async () => {
    const wf = makeWorkflow({
      tasks: {
        a: { action: 'work', inputs: { ms: 10_000 }, timeout: '20ms', retry: { attempts: 2, delay: '1ms' } },
      },
    });
    const { run, sink } = setup(wf);
    const result = await run();
    expect(result.tasks.a).toMatchObject({ status: 'timed_out', attempts: 2 });
    expect(statuses(sink, 'a')).toEqual(['pending', 'running', 'timed_out', 'running', 'timed_out']);
  });

  it('times out the whole run: running tasks time out, the rest are cancelled', async () => {
    const wf = makeWorkflow({
      timeout: '80ms',
      tasks: {
        slow: { action: 'work', inputs: { ms: 10_000 } },
        next: { action: 'work', depends_on: ['slow'] },
      },
    });
    const result = await setup(wf).run();
    expect(result.status).toBe('timed_out');
    expect(result.error?.message).toBe('run timed out after 80ms');
    expect(result.tasks.slow?.status).toBe('timed_out');
    expect(result.tasks.next).toMatchObject({ status: 'cancelled', reason: 'run timed out after 80ms' });
  });

  it('cancels through the run signal', async () => {
    const controller = new AbortController();
    const wf = makeWorkflow({
      tasks: {
        slow: { action: 'work', inputs: { ms: 10_000 }, retry: 3 },
        next: { action: 'work', depends_on: ['slow'], when: 'always' },
      },
    });
    const { run, sink } = setup(wf, { signal: controller.signal });
    const promise = run();
    const { waitFor } = await import('../../helpers/wait-for.ts');
    await waitFor(() => statuses(sink, 'slow').includes('running'));
    controller.abort();
    const result = await promise;
    expect(result.status).toBe('cancelled');
    expect(result.tasks.slow).toMatchObject({ status: 'cancelled', attempts: 1 });
    expect(result.tasks.next?.status).toBe('cancelled');
  });

  it('cancels a task without a timeout of its own whose action ignores the signal', async () => {
    // Such tasks share the run's signal and abort promise instead of having their own.
    const controller = new AbortController();
    const wf = makeWorkflow({
      tasks: { rude: { action: 'stubborn' }, polite: { action: 'work', inputs: { ms: 10_000 } } },
    });
    const { run, sink } = setup(wf, { signal: controller.signal });
    const promise = run();
    const { waitFor } = await import('../../helpers/wait-for.ts');
    await waitFor(
      () => statuses(sink, 'rude').includes('running') && statuses(sink, 'polite').includes('running'),
    );
    const started = Date.now();
    controller.abort();
    const result = await promise;
    // After the bounded cleanup wait (3 s) for the action that ignored its signal.
    expect(Date.now() - started).toBeLessThan(4500);
    expect(result.status).toBe('cancelled');
    expect(result.tasks.rude).toMatchObject({ status: 'cancelled', attempts: 1 });
    expect(result.tasks.polite).toMatchObject({ status: 'cancelled', attempts: 1 });
  });
});

describe('secrets, logs and resume', () => {
  it('gives actions only declared secrets and redacts them from events', async () => {
    const wf = makeWorkflow({
      tasks: { a: { action: 'echo', inputs: { message: 'key=${secrets.TOKEN}' } } },
    });
    const { run, sink } = setup(wf);
    const result = await run();
    const all = JSON.stringify(sink.events);
    expect(all).not.toContain('s3cr3t-token-value');
    expect(result.tasks.a?.output).toEqual({ message: 'key=***' });
    expect(sink.logs('a').map((l) => l.message)).toEqual(['echo "key=***" token=***']);
  });

  it('does not re-run tasks that already succeeded', async () => {
    const wf = makeWorkflow({
      tasks: {
        a: { action: 'flaky', inputs: { succeed_on: 1 } },
        b: { action: 'echo', depends_on: ['a'], inputs: { message: '${tasks.a.output.attempt}' } },
      },
    });
    const completed: Record<string, TaskResult> = {
      a: { status: 'succeeded', output: { attempt: 7 }, attempts: 1 },
    };
    const { run, calls, sink } = setup(wf, { completed });
    const result = await run();
    expect(calls.a).toBeUndefined();
    expect(result.tasks.b?.output).toEqual({ message: 7 });
    expect(sink.tasks('a')).toHaveLength(0);
  });

  it('continues attempt numbers on resume and counts only failed attempts against the budget', async () => {
    const wf = makeWorkflow({
      tasks: { a: { action: 'flaky', inputs: { succeed_on: 9 }, retry: { attempts: 3, delay: '1ms' } } },
    });
    // Attempt 1 failed, attempt 2 was cut short by a crashed worker: one failure so far.
    const { run, sink } = setup(wf, { priorAttempts: { a: { last: 2, failures: 1 } } });
    const result = await run();
    expect(result.tasks.a).toMatchObject({ status: 'failed', attempts: 4 });
    expect(
      sink
        .tasks('a')
        .filter((e) => e.status === 'running')
        .map((e) => e.attempt),
    ).toEqual([3, 4]);
  });
});

describe('a failing event sink', () => {
  it('stops the run, aborts running tasks and throws the sink error once they end', async () => {
    const wf = makeWorkflow({
      tasks: {
        slow: { action: 'work', inputs: { ms: 10_000 } },
        other: { action: 'work', inputs: { ms: 10_000 } },
      },
    });
    const kit = testActions();
    let seen = 0;
    const started = Date.now();
    const promise = executeRun({
      workflow: wf,
      actions: kit.actions,
      runId: 'run-x',
      trigger: { type: 'manual' },
      secrets: {},
      env: { filesDir: '/nonexistent', httpAllow: [], outputLimitBytes: 1024 },
      events: {
        emit(event) {
          seen += 1;
          if (event.type === 'task.status' && event.status === 'running' && event.taskId === 'other') {
            throw new Error('lease lost');
          }
        },
      },
    });
    await expect(promise).rejects.toThrow('lease lost');
    expect(Date.now() - started).toBeLessThan(2000);
    expect(kit.spans.map((s) => s.task).sort()).toEqual(['other', 'slow']);
    expect(seen).toBeGreaterThan(0);
  });
});

describe('review regressions', () => {
  it('resume does not re-run a completed task that became ready through another completed task', async () => {
    const wf = makeWorkflow({
      tasks: {
        a: { action: 'flaky', inputs: { succeed_on: 1 } },
        b: { action: 'flaky', inputs: { succeed_on: 1 }, depends_on: ['a'] },
        c: { action: 'echo', depends_on: ['b'], inputs: { message: '${tasks.b.output.attempt}' } },
      },
    });
    const completed: Record<string, TaskResult> = {
      a: { status: 'succeeded', output: { attempt: 1 }, attempts: 1 },
      b: { status: 'succeeded', output: { attempt: 5 }, attempts: 5 },
    };
    const { run, calls } = setup(wf, { completed });
    const result = await run();
    expect(calls).toEqual({});
    expect(result.tasks.c?.output).toEqual({ message: 5 });
  });

  it('an action that cancels itself fails the task and the run', async () => {
    const wf = makeWorkflow({ tasks: { a: { action: 'work', inputs: { ms: 10 } } } });
    const kit = testActions();
    const { z } = await import('zod');
    const { defineAction } = await import('../../../src/plugins/define-action.ts');
    const { CancelledError } = await import('../../../src/errors.ts');
    kit.actions.set(
      'work',
      defineAction({
        name: 'work',
        description: 'gives up',
        input: z.object({ ms: z.number() }),
        output: z.object({}),
        run: () => {
          throw new CancelledError('gave up by itself');
        },
      }),
    );
    const result = await executeRun({
      workflow: wf,
      actions: kit.actions,
      runId: 'r',
      trigger: { type: 'manual' },
      secrets: {},
      events: new MemorySink(),
      env: { filesDir: '/x', httpAllow: [], outputLimitBytes: 1024 },
    });
    expect(result.tasks.a?.status).toBe('failed');
    expect(result.status).toBe('failed');
  });

  it('settles skips at once even when every slot is busy', async () => {
    const wf = makeWorkflow({
      parallelism: 1,
      tasks: {
        bad: { action: 'flaky', inputs: { succeed_on: 9 } },
        slow: { action: 'work', inputs: { ms: 400 } },
        after_bad: { action: 'work', depends_on: ['bad'] },
      },
    });
    const { run, sink } = setup(wf);
    await run();
    const skippedAt = Date.parse(sink.tasks('after_bad').find((e) => e.status === 'skipped')?.at ?? '');
    const slowEnd = Date.parse(sink.tasks('slow').find((e) => e.status === 'succeeded')?.at ?? '');
    expect(skippedAt).toBeLessThan(slowEnd);
  });
});
