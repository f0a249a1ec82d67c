import { Cron } from 'croner';
import jsone from 'json-e';
import { z } from 'zod';
import { durationTooLong, parseDuration } from '../util/duration.ts';
import { expressionSyntaxError, rootIdentifiers, scanTemplate, templateFunctions } from './templates.ts';

/**
 * The workflow file format as written by users. Objects are strict so a typo is an error
 * with a did-you-mean, not a silently ignored key. `normalize.ts` turns this into `Workflow`.
 */

export const TASK_ID = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const WORKFLOW_NAME = /^[A-Za-z0-9][A-Za-z0-9_.\-/]*$/;

export const durationSchema = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const ms = parseDuration(value);
  if (ms === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `"${value}" is not a duration; write a number with a unit, like 500ms, 30s, 5m or 1h30m`,
    });
    return z.NEVER;
  }
  // setTimeout fires at once for longer delays, so a longer timeout would never wait.
  const tooLong = durationTooLong(value, ms);
  if (tooLong) {
    ctx.addIssue({ code: 'custom', message: tooLong });
    return z.NEVER;
  }
  return ms;
});

const retryObject = z.strictObject({
  attempts: z.int().min(1).max(100).optional(),
  delay: durationSchema.optional(),
  backoff: z.enum(['constant', 'exponential']).optional(),
  max_delay: durationSchema.optional(),
  jitter: z.union([z.boolean(), z.number().min(0).max(1)]).optional(),
});
/** `retry: 3` is short for `retry: { attempts: 3 }`. */
export const retrySchema = z.union([z.int().min(1).max(100), retryObject]);

const whenSchema = z.enum(['on_success', 'on_failure', 'always']);

const taskShape = {
  name: z.string().optional(),
  description: z.string().optional(),
  action: z.string().min(1).optional(),
  inputs: z.record(z.string(), z.unknown()).optional(),
  run: z.string().min(1).optional(),
  env: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  cwd: z.string().optional(),
  depends_on: z.union([z.string(), z.array(z.string())]).optional(),
  if: z.union([z.string(), z.boolean()]).optional(),
  when: whenSchema.optional(),
  retry: retrySchema.optional(),
  timeout: durationSchema.optional(),
  continue_on_error: z.boolean().optional(),
};

export const taskSchema = z.strictObject(taskShape);
export const stepSchema = z.strictObject({ id: z.string().optional(), ...taskShape });

const inputTypes = z.enum(['string', 'number', 'integer', 'boolean', 'object', 'array']);
export const inputDeclSchema = z.strictObject({
  type: inputTypes.optional(),
  required: z.boolean().optional(),
  default: z.unknown().optional(),
  description: z.string().optional(),
  enum: z.array(z.unknown()).optional(),
});

/** A bare `manual:` or `webhook:` (YAML null) or `true` means "enabled with defaults". */
const enabled = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (v === null || v === true ? {} : v), schema);

const cronSchema = z.string().superRefine((pattern, ctx) => {
  try {
    new Cron(pattern, { paused: true }).stop();
  } catch (err) {
    ctx.addIssue({
      code: 'custom',
      message: `"${pattern}" is not a valid cron expression: ${(err as Error).message}`,
    });
  }
});

const timezoneSchema = z.string().superRefine((tz, ctx) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
  } catch {
    ctx.addIssue({
      code: 'custom',
      message: `"${tz}" is not a known IANA time zone (e.g. Europe/Berlin, UTC)`,
    });
  }
});

/** Verification presets; `standard` and `hmac` are the older spellings, still accepted. */
export const WEBHOOK_VERIFY = ['none', 'github', 'stripe', 'standard-webhooks', 'hmac-sha256'] as const;
const WEBHOOK_VERIFY_ALIASES = ['standard', 'hmac'] as const;
/** Segments of letters, digits, `_`, `-` and `.`, joined by `/` (`github/issues`), no `..`. */
export const WEBHOOK_PATH = /^(?!.*(?:^|\/)\.{1,2}(?:\/|$))[A-Za-z0-9_.-]+(?:\/[A-Za-z0-9_.-]+)*$/;
export const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Names a webhook's idempotency_key expression may read besides json-e's built-in functions. */
const IDEMPOTENCY_CONTEXT = new Set(['trigger', ...Object.keys(templateFunctions)]);
/** json-e's own functions (`lowercase`, `len`, ...): typeof names them without an error. */
const isJsoneBuiltin = (name: string): boolean => {
  try {
    return jsone({ $eval: `typeof(${name})` }, {}) === 'function';
  } catch {
    return false;
  }
};

const webhookSchema = z
  .strictObject({
    verify: z.enum([...WEBHOOK_VERIFY, ...WEBHOOK_VERIFY_ALIASES]).optional(),
    secret: z
      .string()
      .regex(SECRET_NAME, 'a secret name uses letters, digits and "_" (set it as BATON_SECRET_<NAME>)')
      .optional(),
    path: z
      .string()
      .max(200)
      .regex(WEBHOOK_PATH, 'a webhook path is segments of letters, digits, "_", "-" and "." joined by "/"')
      .optional(),
    header: z
      .string()
      .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'a header name, like X-Signature')
      .optional(),
    encoding: z.enum(['hex', 'base64']).optional(),
    prefix: z.string().min(1).optional(),
    schema: z.record(z.string(), z.unknown()).optional(),
    idempotency_key: z.string().min(1).optional(),
  })
  .superRefine((hook, ctx) => {
    const verify = hook.verify ?? (hook.secret ? 'hmac-sha256' : 'none');
    if (verify !== 'none' && hook.secret === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: `verify: ${verify} needs "secret", the name of the secret that holds the signing key (e.g. secret: WEBHOOK_SECRET, set as BATON_SECRET_WEBHOOK_SECRET)`,
      });
    }
    if (verify === 'none' && hook.secret !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['secret'],
        message: 'a secret is set but verify is none, so nothing would check it; choose a verify preset',
      });
    }
    if (verify !== 'hmac-sha256' && verify !== 'hmac') {
      for (const key of ['header', 'encoding', 'prefix'] as const) {
        if (hook[key] !== undefined)
          ctx.addIssue({ code: 'custom', path: [key], message: `only verify: hmac-sha256 uses "${key}"` });
      }
    }
    if (hook.schema !== undefined) {
      try {
        z.fromJSONSchema(hook.schema as Parameters<typeof z.fromJSONSchema>[0]);
      } catch (err) {
        ctx.addIssue({
          code: 'custom',
          path: ['schema'],
          message: `not a usable JSON Schema: ${(err as Error).message}`,
        });
      }
    }
    if (hook.idempotency_key !== undefined) {
      const problem = idempotencyKeyProblem(hook.idempotency_key);
      if (problem) ctx.addIssue({ code: 'custom', path: ['idempotency_key'], message: problem });
    }
  });

/** `${trigger.headers['x-id']}`, `gh-${trigger.body.id}` or a bare `trigger.body.id`; it reads only `trigger`. */
function idempotencyKeyProblem(text: string): string | undefined {
  const scan = scanTemplate(text);
  if (scan.error) return scan.error;
  const expressions = text.includes('${') ? scan.expressions.map((e) => e.expr) : [text];
  for (const expr of expressions) {
    const error = expressionSyntaxError(expr);
    if (error) return `\${${expr}} is not a valid expression: ${error}`;
    const other = rootIdentifiers(expr).find(
      (name) => !IDEMPOTENCY_CONTEXT.has(name) && !isJsoneBuiltin(name),
    );
    if (other)
      return `\${${expr}} reads "${other}"; an idempotency key can read only trigger (body, headers, query)`;
  }
  return undefined;
}

/** An explicit schedule entry id; it names the entry in idempotency keys, state and the API. */
export const SCHEDULE_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** Rules across fields (input vs inputs, catchup_limit without catchup: all) are in trigger-checks.ts. */
const scheduleEntrySchema = z.strictObject({
  cron: cronSchema,
  id: z
    .string()
    .max(64)
    .regex(SCHEDULE_ID, 'a schedule id uses letters, digits, "_", "-" and "."')
    .optional(),
  timezone: timezoneSchema.optional(),
  input: z.record(z.string(), z.unknown()).optional(),
  /** The older spelling of `input`. */
  inputs: z.record(z.string(), z.unknown()).optional(),
  overlap: z.enum(['skip', 'queue', 'allow']).optional(),
  catchup: z.enum(['none', 'latest', 'all']).optional(),
  catchup_limit: z.int().min(1).max(1000).optional(),
});

/** A json-e expression, bare (`output.body.items`) or wrapped (`${output.body.items}`), reading only `allowed`. */
const expressionSchema = (allowed: readonly string[]) =>
  z
    .string()
    .min(1)
    .superRefine((text, ctx) => {
      const problem = expressionProblem(text, allowed);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    });

function expressionProblem(text: string, allowed: readonly string[]): string | undefined {
  const trimmed = text.trim();
  const scan = scanTemplate(trimmed);
  if (scan.error) return scan.error;
  const wrapped = trimmed.startsWith('${') && trimmed.endsWith('}') && scan.expressions.length === 1;
  const expr = wrapped ? (scan.expressions[0]?.expr ?? '') : trimmed;
  const error = expressionSyntaxError(expr);
  if (error) return `"${text}" is not a valid expression: ${error}`;
  const other = rootIdentifiers(expr).find(
    (name) => !allowed.includes(name) && !(name in templateFunctions) && !isJsoneBuiltin(name),
  );
  if (other) return `"${text}" reads "${other}"; this expression can read only ${allowed.join(', ')}`;
  return undefined;
}

/** Interval floor: a tighter loop would mostly measure the poller itself. */
const MIN_POLL_INTERVAL_MS = 250;

const pollSchema = z.strictObject({
  action: z.string().min(1),
  inputs: z.record(z.string(), z.unknown()).optional(),
  interval: durationSchema.refine((ms) => ms >= MIN_POLL_INTERVAL_MS, {
    message: `a poll interval must be at least ${MIN_POLL_INTERVAL_MS}ms`,
  }),
  items: expressionSchema(['output', 'vars']),
  key: expressionSchema(['item']).optional(),
  fire_existing: z.boolean().optional(),
  timeout: durationSchema.optional(),
});

export const triggersSchema = z.strictObject({
  webhook: enabled(webhookSchema).optional(),
  schedule: z
    .union([cronSchema.transform((cron) => [{ cron }]), z.array(scheduleEntrySchema).min(1)])
    .optional(),
  poll: pollSchema.optional(),
  manual: enabled(
    z.strictObject({
      inputs: z.record(z.string(), inputDeclSchema).optional(),
    }),
  ).optional(),
});

export const concurrencySchema = z.strictObject({
  limit: z.int().min(1),
  on_limit: z.enum(['queue', 'skip', 'cancel_previous']).optional(),
  key: z.string().optional(),
});

export const workflowFileSchema = z.strictObject({
  name: z
    .string()
    .regex(WORKFLOW_NAME, 'a workflow name uses letters, digits, "_", "-", "." and "/"')
    .optional(),
  description: z.string().optional(),
  on: triggersSchema.optional(),
  concurrency: concurrencySchema.optional(),
  timeout: durationSchema.optional(),
  parallelism: z.int().min(1).max(1000).optional(),
  vars: z.record(z.string(), z.unknown()).optional(),
  defaults: z
    .strictObject({
      retry: retrySchema.optional(),
      timeout: durationSchema.optional(),
    })
    .optional(),
  tasks: z.record(z.string(), taskSchema).optional(),
  steps: z.array(stepSchema).optional(),
});

export type WorkflowFile = z.output<typeof workflowFileSchema>;
export type TaskFile = z.output<typeof taskSchema>;
export type StepFile = z.output<typeof stepSchema>;
export type RetryFile = z.output<typeof retrySchema>;
export type InputDecl = z.output<typeof inputDeclSchema>;
export type WebhookFile = z.output<typeof webhookSchema>;
export type ScheduleFile = z.output<typeof scheduleEntrySchema>;
export type PollFile = z.output<typeof pollSchema>;
