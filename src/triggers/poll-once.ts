import { createHash } from 'node:crypto';
import { Redactor } from '../engine/redact.ts';
import { TimeoutError, ValidationError } from '../errors.ts';
import { abortError } from '../plugins/abort.ts';
import type { ActionEnvironment, AnyAction, ConnectionAccess, TaskLogger } from '../plugins/define-action.ts';
import { NO_CONNECTIONS } from '../plugins/no-connections.ts';
import { formatDuration } from '../util/duration.ts';
import { evaluate, render } from '../workflow/templates.ts';
import type { PollTrigger, Workflow } from '../workflow/types.ts';

/** One poll: run the action, take the items from its output, give each its key. No database here. */

export interface PolledItem {
  item: unknown;
  key: string;
}

export interface PollContext {
  actions: ReadonlyMap<string, AnyAction>;
  env: ActionEnvironment;
  secrets: Readonly<Record<string, string>>;
  connections?: ConnectionAccess;
  signal: AbortSignal;
  log: (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void;
}

/** Keys longer than this are stored as their hash (they index a table and make an idempotency key). */
const MAX_KEY_LENGTH = 200;

export async function pollItems(
  workflow: Workflow,
  poll: PollTrigger,
  ctx: PollContext,
): Promise<PolledItem[]> {
  const redactor = new Redactor(Object.values(ctx.secrets));
  try {
    const output = await runPollAction(workflow, poll, ctx);
    const items = evaluate(poll.items, { output, vars: workflow.vars }, 'on.poll.items');
    if (!Array.isArray(items)) {
      throw new ValidationError(
        `on.poll.items "${poll.items}" gave ${items === null ? 'null' : typeof items}, not a list of items`,
      );
    }
    const seen = new Set<string>();
    const out: PolledItem[] = [];
    items.forEach((item, index) => {
      const key = itemKey(poll.key, item, index);
      if (seen.has(key)) return; // the same item twice in one answer fires once
      seen.add(key);
      out.push({ item, key });
    });
    return out;
  } catch (err) {
    // What the poller stores and shows must not carry a secret the inputs used.
    if (err instanceof Error) err.message = redactor.text(err.message);
    throw err;
  }
}

function itemKey(expression: string, item: unknown, index: number): string {
  const value = evaluate(expression, { item }, 'on.poll.key');
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
    throw new ValidationError(
      `on.poll.key "${expression}" gave ${value === null || value === undefined ? 'nothing' : `a ${Array.isArray(value) ? 'list' : typeof value}`} for item ${index}; a key must be a string or number (set on.poll.key to the field that identifies an item)`,
    );
  }
  const text = String(value);
  return text.length > MAX_KEY_LENGTH ? `sha256:${createHash('sha256').update(text).digest('hex')}` : text;
}

async function runPollAction(workflow: Workflow, poll: PollTrigger, ctx: PollContext): Promise<unknown> {
  const action = ctx.actions.get(poll.action);
  if (!action) throw new ValidationError(`on.poll: unknown action "${poll.action}"`);
  const rendered = render(
    poll.inputs,
    { secrets: ctx.secrets, vars: workflow.vars, workflow: { name: workflow.name } },
    'on.poll.inputs',
  );
  const parsed = action.input.safeParse(rendered);
  if (!parsed.success) {
    throw new ValidationError(`on.poll.inputs do not fit ${poll.action}: ${parsed.error.message}`);
  }
  const controller = new AbortController();
  const onAbort = () => controller.abort(abortError(ctx.signal));
  if (ctx.signal.aborted) onAbort();
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(
    () => controller.abort(new TimeoutError(`the poll timed out after ${formatDuration(poll.timeoutMs)}`)),
    poll.timeoutMs,
  );
  const aborted = new Promise<never>((_, reject) => {
    controller.signal.addEventListener('abort', () => reject(abortError(controller.signal)), { once: true });
  });
  aborted.catch(() => {});
  const prefix = `poll ${workflow.name}:`;
  const log: TaskLogger = {
    debug: (m) => ctx.log('debug', `${prefix} ${m}`),
    info: (m) => ctx.log('debug', `${prefix} ${m}`),
    warn: (m) => ctx.log('warn', `${prefix} ${m}`),
    error: (m) => ctx.log('warn', `${prefix} ${m}`),
    line: (_stream, m) => ctx.log('debug', `${prefix} ${m}`),
  };
  try {
    const declared = new Set(action.secrets ?? []);
    const raw = await Promise.race([
      action.run({
        input: parsed.data,
        secrets: Object.fromEntries([...declared].map((name) => [name, ctx.secrets[name]])),
        signal: controller.signal,
        log,
        idempotencyKey: `poll:${workflow.name}:${Date.now()}`,
        attempt: 1,
        run: { id: 'poll', workflow: workflow.name },
        task: { id: 'poll' },
        env: ctx.env,
        connections: ctx.connections ?? NO_CONNECTIONS,
      }),
      aborted,
    ]);
    const checked = action.output.safeParse(raw);
    return checked.success ? checked.data : raw;
  } finally {
    clearTimeout(timer);
    ctx.signal.removeEventListener('abort', onAbort);
  }
}
