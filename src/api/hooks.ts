import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { SECRET_ENV_PREFIX } from '../config.ts';
import { ConflictError, NotFoundError, UnauthorizedError, ValidationError } from '../errors.ts';
import { parseWebhookBody } from '../triggers/webhook-body.ts';
import {
  checkBodySchema,
  findWebhookTarget,
  triggerHeaders,
  webhookIdempotencyKey,
} from '../triggers/webhook-targets.ts';
import { verifyGithub, verifyWebhook } from '../triggers/webhook-verify.ts';
import type { WebhookTrigger, Workflow } from '../workflow/types.ts';
import type { ApiDeps } from './deps.ts';
import { errorResponse } from './errors.ts';

export { type WebhookOperation, webhookOperations } from '../triggers/webhook-targets.ts';

/** What happened to one delivery, for logs and metrics (the caller only sees the status). */
export interface WebhookOutcome {
  /** The path after `/hooks/`. */
  target: string;
  workflow?: string;
  status: number;
  outcome:
    | 'accepted'
    | 'duplicate'
    | 'ping'
    | 'unknown'
    | 'invalid'
    | 'too_large'
    | 'misconfigured'
    | 'unauthorized'
    | 'malformed'
    | 'rejected'
    | 'error';
  /** Why a delivery was refused (a bad signature's reason goes here, never to the sender). */
  reason?: string;
  runId?: string;
}

export interface WebhookRouteOptions {
  /** Secret values by name; default `BATON_SECRET_<NAME>` from the environment, read per request. */
  secrets?: () =>
    | Readonly<Record<string, string | undefined>>
    | Promise<Readonly<Record<string, string | undefined>>>;
  /** Clock for the replay window of signed timestamps. */
  now?: () => number;
  onOutcome?: (outcome: WebhookOutcome) => void;
}

interface Delivery {
  target: string;
  workflow?: Workflow;
  hook?: WebhookTrigger;
  secret?: string;
  outcome?: WebhookOutcome['outcome'];
  reason?: string;
  runId?: string;
}

/** Where a push webhook (GitHub's signature, `X-Hub-Signature-256`) asks for a git sync now. */
export const GIT_HOOK_PATH = '/hooks/_git';

type Env = { Variables: { delivery: Delivery } };

/**
 * `POST /hooks/<name or custom path>`: verify, parse, validate, dedupe, then commit a run and
 * answer 202 at once (200 for a repeated delivery, with the first run); the enqueue follows the
 * answer. Nothing that is refused creates a run. Typed errors are answered by the app's error handler.
 */
export function webhookRoutes(deps: ApiDeps, options: WebhookRouteOptions = {}): Hono<Env> {
  // One variable per delivery, not a scan of the whole environment.
  const secretNamed = options.secrets
    ? async (name: string) => (await options.secrets?.())?.[name]
    : async (name: string) => process.env[`${SECRET_ENV_PREFIX}${name}`];
  const app = new Hono<Env>();

  app.use('/hooks/*', async (c, next) => {
    if (c.req.method !== 'POST') return next();
    const delivery: Delivery = { target: targetOf(c) };
    c.set('delivery', delivery);
    await next();
    options.onOutcome?.(outcomeOf(delivery, c));
  });

  // Git sync's push webhook (before workflow targets, so `_git` is reserved while sync is on).
  const gitSync = deps.gitSync;
  if (gitSync && deps.config.git) {
    const secret = deps.config.git.webhookSecret;
    app.post(GIT_HOOK_PATH, bodyLimit({ maxSize: deps.config.bodyLimitBytes }), async (c) => {
      const delivery = c.get('delivery');
      if (!secret) {
        delivery.outcome = 'misconfigured';
        throw new ConflictError('the git push webhook needs BATON_GIT_WEBHOOK_SECRET');
      }
      const bytes = new Uint8Array(await c.req.arrayBuffer());
      const verified = verifyGithub(secret, bytes, c.req.raw.headers);
      if (!verified.ok) {
        delivery.outcome = 'unauthorized';
        delivery.reason = verified.reason;
        throw new UnauthorizedError('the webhook signature is missing or does not match');
      }
      // Only a push to the followed branch is news; a ping or a push elsewhere starts nothing.
      const event = c.req.header('x-github-event');
      if (event !== undefined && event !== 'push') {
        delivery.outcome = 'ping';
        return c.json({ sync: 'ignored', reason: `event "${event}" is not a push` }, 200);
      }
      const ref = pushRef(bytes);
      const wanted = `refs/heads/${deps.config.git?.branch ?? 'main'}`;
      if (ref !== undefined && ref !== wanted) {
        delivery.outcome = 'ping';
        return c.json({ sync: 'ignored', reason: `push to ${ref}, not ${wanted}` }, 200);
      }
      // Answered at once; the sync's result shows in /api/workflows.
      void gitSync.tick();
      return c.json({ sync: 'started' }, 202);
    });
  }

  app.post(
    '/hooks/:target{.+}',
    async function resolveTarget(c, next) {
      const delivery = c.get('delivery');
      const found = findWebhookTarget(deps.registry, delivery.target);
      if (found.kind === 'unknown') {
        delivery.outcome = 'unknown';
        throw new NotFoundError(`no workflow or webhook path "${delivery.target}"`);
      }
      if (found.kind === 'invalid') {
        delivery.outcome = 'invalid';
        // Callers are unauthenticated: problems without the server's file paths.
        const problems = found.problems.map(({ line, column, message }) => ({ line, column, message }));
        const first = problems[0];
        const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
        const where = first
          ? `${first.line}:${first.column}: ${first.message}${more}`
          : 'its file has problems';
        throw new ConflictError(`workflow "${found.name}" is invalid: ${where}`, { details: { problems } });
      }
      if (found.kind === 'no-webhook') {
        delivery.outcome = 'invalid';
        throw new ConflictError(`workflow "${found.name}" has no webhook trigger (add on.webhook)`);
      }
      delivery.workflow = found.workflow;
      delivery.hook = found.hook;
      const name = found.hook.secret;
      if (found.hook.verify !== 'none' && name !== undefined) {
        const value = await secretNamed(name);
        if (value === undefined || value === '') {
          delivery.outcome = 'misconfigured';
          throw new ConflictError(
            `workflow "${found.workflow.name}" verifies webhooks with the secret ${name}, which is not set; add it with "baton secrets set ${name}" or set BATON_SECRET_${name}`,
          );
        }
        delivery.secret = value;
      }
      return next();
    },
    bodyLimit({
      maxSize: deps.config.bodyLimitBytes,
      onError(c) {
        c.get('delivery').outcome = 'too_large';
        const limit = deps.config.bodyLimitBytes;
        const message = `the body is larger than the limit of ${limit} bytes (BATON_BODY_LIMIT)`;
        return errorResponse(c, 413, 'validation', message, { limit });
      },
    }),
    async function deliver(c) {
      const delivery = c.get('delivery');
      const { workflow, hook } = delivery;
      if (!workflow || !hook) throw new Error('webhook target was not resolved');
      const bytes = new Uint8Array(await c.req.arrayBuffer());
      const headers = c.req.raw.headers;

      const verified = verifyWebhook(
        hook,
        delivery.secret,
        bytes,
        headers,
        options.now ? { now: options.now } : {},
      );
      if (!verified.ok) {
        delivery.reason = verified.reason;
        if (verified.misconfigured) {
          delivery.outcome = 'misconfigured';
          throw new ConflictError(
            `workflow "${workflow.name}" cannot verify webhooks: the secret ${hook.secret} is not usable (${verified.reason})`,
          );
        }
        delivery.outcome = 'unauthorized';
        throw new UnauthorizedError('the webhook signature is missing, expired or does not match');
      }
      // GitHub pings a webhook when it is created; that is no event to run the workflow for.
      if (headers.get('x-github-event') === 'ping') {
        delivery.outcome = 'ping';
        return c.json({ ping: true, run_id: null, duplicate: false }, 200);
      }

      const parsed = parseWebhookBody(bytes, headers.get('content-type'));
      if (!parsed.ok) {
        delivery.outcome = 'malformed';
        delivery.reason = parsed.message;
        return errorResponse(c, 400, 'validation', parsed.message);
      }
      const problems = checkBodySchema(hook, parsed.body);
      if (problems.length > 0) {
        delivery.outcome = 'rejected';
        const shown = problems
          .slice(0, 5)
          .map((p) => (p.path ? `${p.path}: ${p.message}` : p.message))
          .join('; ');
        throw new ValidationError(
          `the body does not match the schema of workflow "${workflow.name}": ${shown}`,
          {
            details: { problems },
          },
        );
      }

      const trigger = {
        type: 'webhook' as const,
        body: parsed.body,
        headers: triggerHeaders(headers),
        // A plain object: json-e (the idempotency template) refuses null-prototype ones.
        query: { ...c.req.query() },
      };
      const idempotencyKey = webhookIdempotencyKey(hook, trigger, headers);
      const { run, created } = await deps.startRun(workflow.name, {
        trigger,
        ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
      });
      delivery.outcome = created ? 'accepted' : 'duplicate';
      delivery.runId = run.id;
      return c.json({ run_id: run.id, url: `/api/runs/${run.id}`, duplicate: !created }, created ? 202 : 200);
    },
  );

  return app;
}

/** The `ref` of a GitHub push payload, when the body is JSON that has one. */
function pushRef(bytes: Uint8Array): string | undefined {
  try {
    const body = JSON.parse(new TextDecoder().decode(bytes)) as { ref?: unknown };
    return typeof body.ref === 'string' ? body.ref : undefined;
  } catch {
    return undefined;
  }
}

/** The path after `/hooks/`, percent-decoded, without a trailing slash. */
function targetOf(c: Context<Env>): string {
  const raw = c.req.path.replace(/^.*?\/hooks\//, '').replace(/\/+$/, '');
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

function outcomeOf(delivery: Delivery, c: Context<Env>): WebhookOutcome {
  const outcome: WebhookOutcome = {
    target: delivery.target,
    status: c.res.status,
    outcome:
      delivery.outcome ?? (c.res.status === 404 ? 'unknown' : c.res.status >= 400 ? 'error' : 'accepted'),
  };
  if (delivery.workflow) outcome.workflow = delivery.workflow.name;
  if (delivery.reason !== undefined) outcome.reason = delivery.reason;
  else if (c.error) outcome.reason = c.error.message;
  if (delivery.runId !== undefined) outcome.runId = delivery.runId;
  return outcome;
}
