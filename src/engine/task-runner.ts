import {
  ActionError,
  BatonError,
  isRetriable,
  NonRetriableError,
  serializeError,
  TimeoutError,
  ValidationError,
} from '../errors.ts';
import { abortError as abortReason, sleep } from '../plugins/abort.ts';
import type { ActionContext, AnyAction, LogLevel, TaskLogger } from '../plugins/define-action.ts';
import { NO_CONNECTIONS } from '../plugins/no-connections.ts';
import { formatDuration } from '../util/duration.ts';
import { render } from '../workflow/templates.ts';
import type { TaskSpec } from '../workflow/types.ts';
import type { TaskStatus } from './events.ts';
import type { Redactor } from './redact.ts';
import { retryDelay } from './retry.ts';
import type { ExecuteOptions, TaskResult } from './types.ts';

export interface TaskRunInput {
  task: TaskSpec;
  action: AnyAction;
  options: ExecuteOptions;
  context: Record<string, unknown>;
  runSignal: AbortSignal;
  /** Rejects with the run's abort reason once the run is aborted (never resolves). */
  runAborted?: Promise<never>;
  redactor: Redactor;
}

/** Runs one task through all its attempts; emits one `running` and one final event per attempt. */
export async function runTask({
  task,
  action,
  options,
  context,
  runSignal,
  runAborted,
  redactor,
}: TaskRunInput): Promise<TaskResult> {
  const { events, runId } = options;
  const base = { type: 'task.status' as const, runId, taskId: task.id, action: task.action };
  const prior = options.priorAttempts?.[task.id];
  let attempt = prior?.last ?? 0;
  let failures = prior?.failures ?? 0;
  while (true) {
    attempt += 1;
    const started = Date.now();
    const startedAt = new Date(started).toISOString();
    const logger = taskLogger(options, task.id, attempt, redactor);
    let input: unknown;
    let failure: unknown;
    let output: unknown;
    try {
      input = prepareInput(task, action, context);
      await events.emit({ ...base, status: 'running', attempt, at: startedAt, input: redactor.value(input) });
      output = await invoke(task, action, input, options, attempt, logger.api, runSignal, runAborted);
    } catch (err) {
      failure = err;
      if (input === undefined) {
        await events.emit({ ...base, status: 'running', attempt, at: startedAt });
      }
    }
    await logger.flush();
    const durationMs = Date.now() - started;
    const at = new Date().toISOString();
    if (failure === undefined) {
      const safeOutput = redactor.value(output);
      await events.emit({
        ...base,
        status: 'succeeded',
        attempt,
        at,
        output: safeOutput,
        startedAt,
        durationMs,
      });
      return { status: 'succeeded', output: safeOutput, attempts: attempt, startedAt, durationMs };
    }

    const status = failureStatus(failure, runSignal);
    const error = redactor.value(serializeError(failure));
    failures += 1;
    const canRetry =
      status !== 'cancelled' && !runSignal.aborted && failures < task.retry.attempts && isRetriable(failure);
    if (canRetry) {
      const delay = retryDelay(task.retry, failures, failure, options.random);
      const retryAt = new Date(Date.now() + delay).toISOString();
      await events.emit({ ...base, status, attempt, at, error, startedAt, durationMs, retryAt });
      try {
        await sleep(delay, runSignal);
        continue;
      } catch (err) {
        // Cancelled while waiting to retry: the attempt already ended, so report the run's reason.
        const reason = serializeError(err).message;
        const finalStatus = failureStatus(err, runSignal);
        await events.emit({
          ...base,
          status: finalStatus,
          attempt,
          at: new Date().toISOString(),
          error,
          reason,
        });
        return { status: finalStatus, error, attempts: attempt, reason, startedAt, durationMs };
      }
    }
    await events.emit({ ...base, status, attempt, at, error, startedAt, durationMs });
    return { status, error, attempts: attempt, startedAt, durationMs };
  }
}

function prepareInput(task: TaskSpec, action: AnyAction, context: Record<string, unknown>): unknown {
  const rendered = render(task.inputs, context, 'inputs');
  const parsed = action.input.safeParse(rendered);
  if (!parsed.success) {
    const detail = parsed.error.issues
      .map(
        (i: { path: PropertyKey[]; message: string }) =>
          `${i.path.length ? `input "${i.path.join('.')}"` : 'input'}: ${i.message}`,
      )
      .join('; ');
    throw new ValidationError(`${task.action} rejected its input: ${detail}`, {
      details: { issues: parsed.error.issues },
    });
  }
  return parsed.data;
}

/** Calls the action under the task's timeout; stops waiting on abort even if the action ignores the signal. */
async function invoke(
  task: TaskSpec,
  action: AnyAction,
  input: unknown,
  options: ExecuteOptions,
  attempt: number,
  log: TaskLogger,
  runSignal: AbortSignal,
  runAborted?: Promise<never>,
): Promise<unknown> {
  // A task with a timeout gets a signal of its own (aborted by the run or by its timer); one without
  // shares the run's signal and abort promise: most tasks, and no per-attempt listeners then.
  let onRunAbort: (() => void) | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let signal = runSignal;
  let aborted = runAborted;
  if (task.timeoutMs !== undefined || !aborted) {
    const own = new AbortController();
    signal = own.signal;
    onRunAbort = () => own.abort(abortReason(runSignal));
    if (runSignal.aborted) onRunAbort();
    runSignal.addEventListener('abort', onRunAbort, { once: true });
    if (task.timeoutMs !== undefined) {
      timer = setTimeout(
        () =>
          own.abort(
            new TimeoutError(`task "${task.id}" timed out after ${formatDuration(task.timeoutMs ?? 0)}`),
          ),
        task.timeoutMs,
      );
    }
    aborted = new Promise<never>((_, reject) => {
      if (own.signal.aborted) reject(abortReason(own.signal));
      own.signal.addEventListener('abort', () => reject(abortReason(own.signal)), { once: true });
    });
    aborted.catch(() => {});
  }
  let pending: Promise<unknown> | undefined;
  try {
    const declared = action.secrets;
    const ctx: ActionContext<unknown> = {
      input,
      secrets:
        declared && declared.length > 0
          ? Object.fromEntries([...new Set(declared)].map((name) => [name, options.secrets[name]]))
          : {},
      signal,
      log,
      idempotencyKey: `${options.runId}:${task.id}`,
      attempt,
      run: { id: options.runId, workflow: options.workflow.name },
      task: { id: task.id },
      env: options.env,
      connections: options.connections ?? NO_CONNECTIONS,
    };
    pending = Promise.resolve().then(() => action.run(ctx));
    pending.catch(() => {});
    const raw = await Promise.race([pending, aborted as Promise<never>]);
    const checked = action.output.safeParse(raw);
    if (!checked.success) {
      throw new NonRetriableError(
        `${task.action} returned output that does not match its schema: ${checked.error.message}`,
      );
    }
    return checked.data;
  } catch (err) {
    if (signal.aborted) {
      // Let the action finish its cleanup (a shell task stops its process group) before the
      // task ends, so `baton run` never exits with children still running; bounded for actions
      // that ignore the signal.
      if (pending) await settleWithin(pending, ABORT_CLEANUP_MS);
      throw abortReason(signal);
    }
    if (err instanceof BatonError) throw err;
    throw new ActionError(err instanceof Error ? err.message : String(err), { cause: err });
  } finally {
    if (timer) clearTimeout(timer);
    if (onRunAbort) runSignal.removeEventListener('abort', onRunAbort);
  }
}

/** How long an aborted action may take to clean up (the shell action needs ~2s to escalate to SIGKILL). */
const ABORT_CLEANUP_MS = 3000;

function settleWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    promise.then(
      () => {
        clearTimeout(timer);
        resolve();
      },
      () => {
        clearTimeout(timer);
        resolve();
      },
    );
  });
}

function failureStatus(err: unknown, runSignal: AbortSignal): TaskStatus {
  if (err instanceof TimeoutError) return 'timed_out';
  // Only the run's own cancellation makes a task `cancelled`; an action that gives up by itself failed.
  if (runSignal.aborted) return 'cancelled';
  return 'failed';
}

/** Log lines become events; emits are collected so the final status never overtakes a log line. */
function taskLogger(options: ExecuteOptions, taskId: string, attempt: number, redactor: Redactor) {
  const pending: Promise<void>[] = [];
  let bytes = 0;
  let truncated = false;
  const limit = options.env.outputLimitBytes;
  let closed = false;
  const write = (level: LogLevel, message: string, stream?: 'stdout' | 'stderr') => {
    // An action that ignored its abort signal may still log after its attempt ended: drop that.
    if (truncated || closed) return;
    bytes += message.length;
    let text = redactor.text(message);
    if (bytes > limit) {
      truncated = true;
      text = `[log truncated: this task wrote more than ${limit} bytes of log]`;
      level = 'warn';
      stream = undefined;
    }
    const event = {
      type: 'task.log' as const,
      runId: options.runId,
      taskId,
      attempt,
      at: new Date().toISOString(),
      level,
      message: text,
      ...(stream ? { stream } : {}),
    };
    pending.push(Promise.resolve(options.events.emit(event)));
  };
  const api: TaskLogger = {
    debug: (m) => write('debug', m),
    info: (m) => write('info', m),
    warn: (m) => write('warn', m),
    error: (m) => write('error', m),
    line: (stream, m) => write(stream === 'stderr' ? 'warn' : 'info', m, stream),
  };
  return {
    api,
    flush: () => {
      closed = true;
      return pending.length === 0 ? undefined : Promise.all(pending).then(() => undefined);
    },
  };
}
