import { createHash } from 'node:crypto';
import type {
  PollFile,
  RetryFile,
  ScheduleFile,
  StepFile,
  TaskFile,
  WebhookFile,
  WorkflowFile,
} from './spec.ts';
import { scanTemplate } from './templates.ts';
import {
  DEFAULT_CATCHUP_LIMIT,
  DEFAULT_HMAC_HEADER,
  DEFAULT_PARALLELISM,
  DEFAULT_POLL_TIMEOUT_MS,
  DEFAULT_RETRY,
  type PollTrigger,
  type RetryPolicy,
  type ScheduleTrigger,
  type TaskSpec,
  type Triggers,
  type WebhookTrigger,
  type WebhookVerify,
  type Workflow,
} from './types.ts';

export interface NormalizeOptions {
  /** Used when the file has no `name:`. */
  defaultName: string;
  file: string;
  /** The file's text, for the content hash that pins a run's version. */
  source: string;
}

/** Turns a schema-valid file into the executor's model: steps become tasks, `run:` becomes `shell`. */
export function normalizeWorkflow(file: WorkflowFile, options: NormalizeOptions): Workflow {
  const defaultRetry = toRetry(file.defaults?.retry, DEFAULT_RETRY);
  const defaultTimeout = file.defaults?.timeout;
  const entries: [string, TaskFile][] = file.steps
    ? stepsToTasks(file.steps)
    : Object.entries(file.tasks ?? {});

  const tasks = entries.map(([id, t]): TaskSpec => {
    const { action, inputs } =
      t.run !== undefined ? shellShorthand(t) : { action: t.action ?? '', inputs: t.inputs ?? {} };
    const task: TaskSpec = {
      id,
      action,
      inputs,
      dependsOn: toList(t.depends_on),
      when: t.when ?? 'on_success',
      retry: toRetry(t.retry, defaultRetry),
      continueOnError: t.continue_on_error ?? false,
    };
    if (t.name !== undefined) task.name = t.name;
    if (t.if !== undefined) task.if = t.if;
    const timeout = t.timeout ?? defaultTimeout;
    if (timeout !== undefined) task.timeoutMs = timeout;
    return task;
  });

  const workflow: Workflow = {
    name: file.name ?? options.defaultName,
    triggers: toTriggers(file.on),
    parallelism: file.parallelism ?? DEFAULT_PARALLELISM,
    vars: file.vars ?? {},
    tasks,
    source: { file: options.file, hash: contentHash(options.source), text: options.source },
  };
  if (file.description !== undefined) workflow.description = file.description;
  if (file.timeout !== undefined) workflow.timeoutMs = file.timeout;
  if (file.concurrency) {
    workflow.concurrency = { limit: file.concurrency.limit, onLimit: file.concurrency.on_limit ?? 'queue' };
    if (file.concurrency.key !== undefined) workflow.concurrency.key = file.concurrency.key;
  }
  return workflow;
}

export function contentHash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Step ids default to `step_1`, `step_2`, ...; each step depends on the one before it. */
export function stepsToTasks(steps: StepFile[]): [string, TaskFile][] {
  let previous: string | undefined;
  return steps.map((step, index) => {
    const { id, ...task } = step;
    const taskId = id ?? `step_${index + 1}`;
    const dependsOn = task.depends_on ?? (previous === undefined ? undefined : [previous]);
    previous = taskId;
    return [taskId, dependsOn === undefined ? task : { ...task, depends_on: dependsOn }];
  });
}

/**
 * `run:` becomes the shell action. Each `${expr}` is replaced by `${BATON_Vn}` and the expression
 * moves into the environment, so values reach the shell as data, never as shell source.
 */
export function shellShorthand(task: TaskFile): { action: string; inputs: Record<string, unknown> } {
  const scan = scanTemplate(task.run ?? '');
  const env: Record<string, unknown> = { ...(task.env ?? {}) };
  const names = new Map<string, string>();
  // The command is itself rendered as a template later, so literal `${` stays escaped as `$${`.
  const literal = (i: number) => (scan.literals[i] ?? '').replaceAll('${', () => '$${');
  let command = literal(0);
  scan.expressions.forEach((e, i) => {
    let name = names.get(e.expr);
    if (!name) {
      name = `BATON_V${names.size + 1}`;
      names.set(e.expr, name);
      env[name] = `\${${e.expr}}`;
    }
    command += `$\${${name}}${literal(i + 1)}`;
  });
  const inputs: Record<string, unknown> = { command };
  if (Object.keys(env).length > 0) inputs.env = env;
  if (task.cwd !== undefined) inputs.cwd = task.cwd;
  return { action: 'shell', inputs };
}

function toRetry(retry: RetryFile | undefined, base: RetryPolicy): RetryPolicy {
  if (retry === undefined) return base;
  if (typeof retry === 'number') return { ...base, attempts: retry };
  const jitter =
    retry.jitter === undefined
      ? base.jitter
      : retry.jitter === true
        ? 1
        : retry.jitter === false
          ? 0
          : retry.jitter;
  return {
    attempts: retry.attempts ?? base.attempts,
    delayMs: retry.delay ?? base.delayMs,
    backoff: retry.backoff ?? base.backoff,
    maxDelayMs: retry.max_delay ?? base.maxDelayMs,
    jitter,
  };
}

function toTriggers(on: WorkflowFile['on']): Triggers {
  const triggers: Triggers = {};
  if (!on) return triggers;
  if (on.webhook) triggers.webhook = toWebhook(on.webhook);
  if (on.schedule) triggers.schedule = on.schedule.map(toSchedule);
  if (on.poll) triggers.poll = toPoll(on.poll);
  if (on.manual) triggers.manual = { inputs: on.manual.inputs ?? {} };
  return triggers;
}

/** The id a schedule entry without `id:` gets: stable while its cron and timezone stay the same. */
export function scheduleEntryId(cron: string, timezone: string): string {
  return createHash('sha256').update(`${cron.trim()}|${timezone}`).digest('hex').slice(0, 10);
}

function toSchedule(entry: Partial<ScheduleFile> & { cron: string }): ScheduleTrigger {
  const timezone = entry.timezone ?? 'UTC';
  return {
    id: entry.id ?? scheduleEntryId(entry.cron, timezone),
    cron: entry.cron,
    timezone,
    inputs: entry.input ?? entry.inputs ?? {},
    overlap: entry.overlap ?? 'skip',
    catchup: entry.catchup ?? 'none',
    catchupLimit: entry.catchup_limit ?? DEFAULT_CATCHUP_LIMIT,
  };
}

function toPoll(poll: PollFile): PollTrigger {
  return {
    action: poll.action,
    inputs: poll.inputs ?? {},
    intervalMs: poll.interval,
    items: poll.items,
    key: poll.key ?? 'item.id',
    fireExisting: poll.fire_existing ?? false,
    timeoutMs: poll.timeout ?? DEFAULT_POLL_TIMEOUT_MS,
  };
}

const VERIFY_ALIASES: Record<string, WebhookVerify> = { standard: 'standard-webhooks', hmac: 'hmac-sha256' };

/** Old preset spellings become the current ones; hmac-sha256 gets its header and encoding defaults. */
function toWebhook(hook: WebhookFile): WebhookTrigger {
  const written = hook.verify ?? (hook.secret ? 'hmac-sha256' : 'none');
  const webhook: WebhookTrigger = { verify: VERIFY_ALIASES[written] ?? (written as WebhookVerify) };
  if (hook.secret !== undefined) webhook.secret = hook.secret;
  if (hook.path !== undefined) webhook.path = hook.path;
  if (webhook.verify === 'hmac-sha256') {
    webhook.header = (hook.header ?? DEFAULT_HMAC_HEADER).toLowerCase();
    webhook.encoding = hook.encoding ?? 'hex';
    if (hook.prefix !== undefined) webhook.prefix = hook.prefix;
  }
  if (hook.schema !== undefined) webhook.schema = hook.schema;
  if (hook.idempotency_key !== undefined) webhook.idempotencyKey = hook.idempotency_key;
  return webhook;
}

function toList(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}
