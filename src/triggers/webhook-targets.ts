import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { TriggerData } from '../engine/types.ts';
import type { Problem } from '../errors.ts';
import type { RegistryView } from '../registry/types.ts';
import { evaluate, render, templateFunctions, toText } from '../workflow/templates.ts';
import type { WebhookTrigger, WebhookVerify, Workflow } from '../workflow/types.ts';
import { signatureHeaders } from './webhook-verify.ts';

/** Which workflow a `/hooks/<target>` request is for, and whether it can take deliveries now. */
export type WebhookTarget =
  | { kind: 'found'; workflow: Workflow; hook: WebhookTrigger }
  | { kind: 'unknown' }
  | { kind: 'invalid'; name: string; problems: Problem[] }
  | { kind: 'no-webhook'; name: string };

/**
 * A workflow's custom `on.webhook.path` wins over a workflow name; the name always works too.
 * A workflow whose file has problems on disk now is invalid, even while the registry keeps its
 * last good definition: a sender should hear about it rather than run an outdated version.
 */
export function findWebhookTarget(registry: RegistryView, target: string): WebhookTarget {
  const good = registry.workflows();
  const entries = registry.entries();
  const byPath =
    [...good.values()].find((w) => w.triggers.webhook?.path === target) ??
    entries.map((e) => e.workflow).find((w) => w?.triggers.webhook?.path === target);
  const name = byPath?.name ?? target;
  const workflow = byPath ?? good.get(name) ?? entries.find((e) => e.name === name)?.workflow;
  const problems = entries.filter((e) => e.name === name).flatMap((e) => e.problems);
  if (problems.length > 0) return { kind: 'invalid', name, problems };
  if (!workflow) return { kind: 'unknown' };
  const hook = workflow.triggers.webhook;
  if (!hook) return { kind: 'no-webhook', name };
  return { kind: 'found', workflow, hook };
}

/** One webhook as the OpenAPI document describes it. */
export interface WebhookOperation {
  /** The full URL path, e.g. `/hooks/github/issues`. */
  path: string;
  workflow: string;
  description?: string;
  verify: WebhookVerify;
  /** Headers the sender must send for the signature check (empty for none). */
  signatureHeaders: string[];
  /** The declared `on.webhook.schema` (JSON Schema) of the body. */
  bodySchema?: Record<string, unknown>;
}

/** One operation per workflow with a webhook trigger, at its custom path or its name, sorted by path. */
export function webhookOperations(registry: Pick<RegistryView, 'workflows'>): WebhookOperation[] {
  const out: WebhookOperation[] = [];
  for (const workflow of registry.workflows().values()) {
    const hook = workflow.triggers.webhook;
    if (!hook) continue;
    const operation: WebhookOperation = {
      path: `/hooks/${hook.path ?? workflow.name}`,
      workflow: workflow.name,
      verify: hook.verify,
      signatureHeaders: signatureHeaders(hook),
    };
    if (workflow.description !== undefined) operation.description = workflow.description;
    if (hook.schema !== undefined) operation.bodySchema = hook.schema;
    out.push(operation);
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Headers senders use for "the same delivery again", in the order they are tried. */
export const DEDUPE_HEADERS = ['x-github-delivery', 'webhook-id', 'idempotency-key'] as const;
/** Longer keys are stored as their hash, so any header fits the unique index. */
const MAX_KEY_LENGTH = 200;

/**
 * The run's idempotency key: the workflow's `idempotency_key` template (rendered against
 * `{ trigger }` and the template functions) when it gives a non-empty value, else the first dedupe header present.
 * Undefined means every delivery starts a run. A template that fails (missing data) throws a
 * TemplateError, answered 422.
 */
export function webhookIdempotencyKey(
  hook: WebhookTrigger,
  trigger: TriggerData,
  headers: Headers,
): string | undefined {
  if (hook.idempotencyKey !== undefined) {
    const field = 'on.webhook.idempotency_key';
    const context = { ...templateFunctions, trigger };
    const value = hook.idempotencyKey.includes('${')
      ? render(hook.idempotencyKey, context, field)
      : evaluate(hook.idempotencyKey, context, field);
    const text = toText(value).trim();
    if (text !== '') return capKey(text);
  }
  for (const name of DEDUPE_HEADERS) {
    const value = headers.get(name)?.trim();
    if (value) return capKey(value);
  }
  return undefined;
}

function capKey(key: string): string {
  return key.length <= MAX_KEY_LENGTH ? key : `sha256:${createHash('sha256').update(key).digest('hex')}`;
}

export interface BodyProblem {
  /** Dotted path into the body (`repository.full_name`, `items[0]`); empty for the body itself. */
  path: string;
  message: string;
}

const compiled = new WeakMap<object, z.ZodType>();

/** Problems of the body against the workflow's declared JSON Schema (none declared: none). */
export function checkBodySchema(hook: WebhookTrigger, body: unknown): BodyProblem[] {
  if (!hook.schema) return [];
  let schema = compiled.get(hook.schema);
  if (!schema) {
    schema = z.fromJSONSchema(hook.schema as Parameters<typeof z.fromJSONSchema>[0]);
    compiled.set(hook.schema, schema);
  }
  const result = schema.safeParse(body);
  if (result.success) return [];
  return result.error.issues.map((issue) => ({ path: formatIssuePath(issue.path), message: issue.message }));
}

function formatIssuePath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}

/** Headers as the run sees them: lower-cased, without credentials meant for Baton itself. */
export function triggerHeaders(headers: Headers): Record<string, string> {
  return Object.fromEntries([...headers].filter(([name]) => !DROPPED_HEADERS.has(name)));
}

const DROPPED_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie']);
