import { CancelledError, NonRetriableError, serializeError, TemplateError, TimeoutError } from '../errors.ts';
import { abortError as abortReason } from '../plugins/abort.ts';
import { formatDuration } from '../util/duration.ts';
import { planLevels } from '../workflow/dag.ts';
import { evaluate, templateFunctions, truthy } from '../workflow/templates.ts';
import type { TaskSpec } from '../workflow/types.ts';
import type { EventSink, RunStatus, TaskStatus } from './events.ts';
import { Redactor } from './redact.ts';
import { runTask } from './task-runner.ts';
import type { ExecuteOptions, RunResult, TaskResult } from './types.ts';

/** What a finished task means to the tasks after it. */
interface Finished {
  result: TaskResult;
  /** Succeeded, or failed with continue_on_error. */
  ok: boolean;
  /** Failed itself, or was skipped because something above it failed. */
  failureAbove: boolean;
}

/**
 * Runs one workflow as a DAG, Kahn style: a task starts the moment its dependencies are done
 * and a slot is free (at most `workflow.parallelism` at once), not level by level.
 */
export async function executeRun(input: ExecuteOptions): Promise<RunResult> {
  const run = new AbortController();
  // A sink that fails (a fenced write, a database gone for good) stops the run: nothing more
  // may be recorded, so running tasks are aborted and the failure is thrown once they end.
  let sinkError: unknown;
  const events: EventSink = {
    async emit(event) {
      if (sinkError !== undefined) return;
      try {
        await input.events.emit(event);
      } catch (err) {
        sinkError = err;
        run.abort(err instanceof Error ? err : new CancelledError(String(err)));
      }
    },
  };
  const options: ExecuteOptions = { ...input, events };
  const { workflow, runId } = options;
  const started = Date.now();
  const redactor = new Redactor(Object.values(options.secrets));
  const byId = new Map(workflow.tasks.map((t) => [t.id, t]));
  const dependents = new Map<string, string[]>(workflow.tasks.map((t) => [t.id, []]));
  const waitingOn = new Map<string, number>();
  for (const t of workflow.tasks) {
    waitingOn.set(t.id, t.dependsOn.length);
    for (const dep of t.dependsOn) dependents.get(dep)?.push(t.id);
  }

  // One promise per run that settles when the run is aborted; tasks without a timeout of their own
  // race their action against it instead of each making an AbortController and two listeners.
  const runAborted = new Promise<never>((_, reject) => {
    run.signal.addEventListener('abort', () => reject(abortReason(run.signal)), { once: true });
  });
  runAborted.catch(() => {});
  const onCancel = () => run.abort(new CancelledError(cancelMessage(options.signal)));
  if (options.signal?.aborted) onCancel();
  options.signal?.addEventListener('abort', onCancel, { once: true });
  const runTimer =
    workflow.timeoutMs === undefined
      ? undefined
      : setTimeout(
          () => run.abort(new TimeoutError(`run timed out after ${formatDuration(workflow.timeoutMs ?? 0)}`)),
          workflow.timeoutMs,
        );

  const finished = new Map<string, Finished>();
  const taskState: Record<
    string,
    { output?: unknown; status: TaskStatus; error?: unknown; attempts: number }
  > = {};
  const context: Record<string, unknown> = {
    ...templateFunctions,
    trigger: options.trigger,
    tasks: taskState,
    steps: taskState,
    secrets: options.secrets,
    vars: workflow.vars,
    run: { id: runId, attempt: options.runAttempt ?? 1 },
    workflow: { name: workflow.name, version: workflow.source.hash },
  };
  const ready: string[] = [];
  const running = new Map<string, Promise<void>>();

  await events.emit({
    type: 'run.status',
    runId,
    workflow: workflow.name,
    status: 'running',
    at: new Date().toISOString(),
    plan: planOf(workflow.tasks),
  });

  const finish = async (task: TaskSpec, result: TaskResult, emitted: boolean) => {
    const failed = result.status === 'failed' || result.status === 'timed_out';
    const entry: Finished = {
      result,
      ok: result.status === 'succeeded' || (failed && task.continueOnError),
      failureAbove:
        (failed && !task.continueOnError) || (result.status === 'skipped' && skippedForFailure(task)),
    };
    finished.set(task.id, entry);
    taskState[task.id] = {
      output: result.output,
      status: result.status,
      error: result.error,
      attempts: result.attempts,
    };
    if (!emitted) {
      await events.emit({
        type: 'task.status',
        runId,
        taskId: task.id,
        action: task.action,
        status: result.status,
        attempt: result.attempts,
        at: new Date().toISOString(),
        ...(result.reason ? { reason: result.reason } : {}),
        ...(result.error ? { error: result.error } : {}),
      });
    }
    for (const next of dependents.get(task.id) ?? []) {
      const left = (waitingOn.get(next) ?? 0) - 1;
      waitingOn.set(next, left);
      if (left === 0 && !finished.has(next)) ready.push(next);
    }
  };

  const skippedForFailure = (task: TaskSpec) =>
    task.dependsOn.some((d) => finished.get(d)?.failureAbove === true);

  /** Settles a ready task without running it, or returns undefined when it should run. */
  const gate = (task: TaskSpec): TaskResult | undefined => {
    if (run.signal.aborted)
      return { status: 'cancelled', attempts: 0, reason: abortReason(run.signal).message };
    const deps = task.dependsOn.map((d) => [d, finished.get(d) as Finished] as const);
    if (task.when === 'on_success') {
      const blocker = deps.find(([, f]) => !f.ok);
      if (blocker)
        return {
          status: 'skipped',
          attempts: 0,
          reason: `upstream task "${blocker[0]}" ${describe(blocker[1].result.status)}`,
        };
    } else if (task.when === 'on_failure' && !deps.some(([, f]) => f.failureAbove)) {
      return { status: 'skipped', attempts: 0, reason: 'no upstream task failed (when: on_failure)' };
    }
    if (task.if === undefined) return undefined;
    if (typeof task.if === 'boolean') {
      return task.if ? undefined : { status: 'skipped', attempts: 0, reason: 'if: false' };
    }
    try {
      if (truthy(evaluate(task.if, context, 'if'))) return undefined;
      return { status: 'skipped', attempts: 0, reason: `if condition was false: ${task.if}` };
    } catch (err) {
      const error = err instanceof TemplateError ? err : new NonRetriableError(String(err), { cause: err });
      return { status: 'failed', attempts: 0, error: redactor.value(serializeError(error)) };
    }
  };

  const pump = async (): Promise<void> => {
    while (ready.length > 0) {
      const id = ready[0] as string;
      const task = byId.get(id) as TaskSpec;
      if (finished.has(id)) {
        ready.shift(); // settled from a checkpoint (resume) after it became ready
        continue;
      }
      // Skips and cancellations settle at once; only tasks that will run wait for a free slot.
      const settled = gate(task);
      const action = options.actions.get(task.action);
      if (!settled && action && running.size >= workflow.parallelism) return;
      ready.shift();
      if (settled) {
        await finish(task, settled, false);
        continue;
      }
      if (!action) {
        const error = serializeError(new NonRetriableError(`unknown action "${task.action}"`));
        await finish(task, { status: 'failed', attempts: 0, error }, false);
        continue;
      }
      let crashed = false;
      const promise = runTask({ task, action, options, context, runSignal: run.signal, runAborted, redactor })
        .catch((err): TaskResult => {
          // A bug below the action (not the action's own failure): record it and stop the run.
          crashed = true;
          run.abort(err instanceof Error ? err : new Error(String(err)));
          return { status: 'failed', attempts: 1, error: redactor.value(serializeError(err)) };
        })
        .then(async (result) => {
          running.delete(id);
          await finish(task, result, !crashed);
        });
      running.set(id, promise);
    }
  };

  try {
    for (const task of workflow.tasks) {
      const done = options.completed?.[task.id];
      if (done) await finish(task, done, true);
    }
    for (const task of workflow.tasks) {
      if (!finished.has(task.id)) {
        await events.emit({
          type: 'task.status',
          runId,
          taskId: task.id,
          action: task.action,
          status: 'pending',
          attempt: 0,
          at: new Date().toISOString(),
        });
      }
    }
    for (const task of workflow.tasks) {
      if (!finished.has(task.id) && waitingOn.get(task.id) === 0 && !ready.includes(task.id))
        ready.push(task.id);
    }
    await pump();
    while (running.size > 0) {
      await Promise.race(running.values());
      await pump();
    }
  } finally {
    if (runTimer) clearTimeout(runTimer);
    options.signal?.removeEventListener('abort', onCancel);
  }

  if (sinkError !== undefined) throw sinkError;
  const tasks = Object.fromEntries([...finished].map(([id, f]) => [id, f.result]));
  const { status, error } = runOutcome(run.signal, workflow.tasks, tasks);
  const durationMs = Date.now() - started;
  await events.emit({
    type: 'run.status',
    runId,
    workflow: workflow.name,
    status,
    at: new Date().toISOString(),
    durationMs,
    ...(error ? { error } : {}),
  });
  if (sinkError !== undefined) throw sinkError;
  return { status, tasks, durationMs, ...(error ? { error } : {}) };
}

/** Levels per task list: a workflow version's tasks never change, and every run of it needs them. */
const plans = new WeakMap<readonly TaskSpec[], string[][]>();
function planOf(tasks: readonly TaskSpec[]): string[][] {
  let plan = plans.get(tasks);
  if (!plan) {
    plan = planLevels(tasks);
    plans.set(tasks, plan);
  }
  // Copied: a sink may keep or change the event it is given.
  return plan.map((level) => [...level]);
}

function runOutcome(signal: AbortSignal, specs: TaskSpec[], tasks: Record<string, TaskResult>) {
  if (signal.aborted) {
    const reason = abortReason(signal);
    const status: RunStatus = reason instanceof TimeoutError ? 'timed_out' : 'cancelled';
    return { status, error: serializeError(reason) };
  }
  const culprit = specs.find((t) => {
    const s = tasks[t.id]?.status;
    return (s === 'failed' || s === 'timed_out') && !t.continueOnError;
  });
  if (!culprit) return { status: 'succeeded' as RunStatus, error: undefined };
  const result = tasks[culprit.id] as TaskResult;
  const error = {
    code: result.error?.code ?? 'action',
    message: `task "${culprit.id}" ${describe(result.status)}: ${result.error?.message ?? 'no error message'}`,
  } as const;
  return { status: 'failed' as RunStatus, error };
}

function describe(status: TaskStatus): string {
  switch (status) {
    case 'failed':
      return 'failed';
    case 'timed_out':
      return 'timed out';
    case 'skipped':
      return 'was skipped';
    case 'cancelled':
      return 'was cancelled';
    default:
      return `is ${status}`;
  }
}

function cancelMessage(signal: AbortSignal | undefined): string {
  const reason = signal?.reason;
  return reason instanceof Error && reason.message ? reason.message : 'run cancelled';
}
