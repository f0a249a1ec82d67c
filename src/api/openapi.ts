import type { OpenAPIHono } from '@hono/zod-openapi';
import pkg from '../../package.json' with { type: 'json' };
import type { WebhookOperation } from '../triggers/webhook-targets.ts';
import type { ApiDeps } from './deps.ts';

export type { WebhookOperation };

export interface OpenApiExtra {
  /** One POST operation per webhook workflow; called per request, so it follows reloads. */
  webhookOperations?: () => WebhookOperation[];
}

type OpenApiDocument = ReturnType<OpenAPIHono['getOpenAPI31Document']>;
type JsonObject = Record<string, unknown>;

const ERROR_REF = { $ref: '#/components/schemas/ErrorResponse' };

const WEBHOOK_ACCEPTED = {
  type: 'object',
  properties: {
    run_id: { type: ['string', 'null'], format: 'uuid', description: 'The run (null for a GitHub ping)' },
    url: { type: 'string', example: '/api/runs/01968a3e-7c1a-7cde-9f00-2b3c4d5e6f70' },
    duplicate: { type: 'boolean', description: 'A repeated delivery: the first run, no new one' },
    ping: { type: 'boolean' },
  },
  required: ['run_id', 'duplicate'],
};

const WEBHOOK_ERRORS: Record<number, string> = {
  400: 'The body could not be parsed (malformed JSON or form)',
  401: 'The signature is missing, expired or does not match; no run',
  404: 'No workflow or webhook path by that name',
  409: 'The workflow is invalid, has no webhook trigger, or its secret is not set; no run',
  413: 'The body is larger than BATON_BODY_LIMIT; no run',
  422: "The body does not match the workflow's declared schema (`details.problems`); no run",
  500: 'Internal error',
};

const VERIFY_NOTES: Record<string, string> = {
  none: 'Deliveries are not signed.',
  github: 'Signed like GitHub: `X-Hub-Signature-256: sha256=<hex HMAC of the raw body>`.',
  stripe:
    'Signed like Stripe: `Stripe-Signature: t=<unix time>,v1=<hex HMAC of "t.body">`, 5 minutes tolerance.',
  'standard-webhooks':
    'Signed per Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>`.',
  'hmac-sha256': 'Signed with an HMAC-SHA256 of the raw body in the configured header.',
};

function operationId(path: string): string {
  return `webhook_${path.replace(/^\/hooks\//, '').replace(/[^A-Za-z0-9]+/g, '_')}`;
}

/** The OpenAPI operation a sender can generate a client from: path, signature headers, body schema. */
export function webhookOperation(op: WebhookOperation): JsonObject {
  const schema: JsonObject = op.bodySchema ? stripDialect(op.bodySchema) : {};
  const content: JsonObject = {
    'application/json': { schema },
    'application/x-www-form-urlencoded': { schema },
  };
  if (!op.bodySchema) content['text/plain'] = { schema: { type: 'string' } };
  const responses: JsonObject = {
    202: {
      description: 'Run created and queued (the answer never waits for the run)',
      content: { 'application/json': { schema: { $ref: '#/components/schemas/WebhookAccepted' } } },
    },
    200: {
      description: 'A repeated delivery (same delivery id or idempotency key): the first run, no new one',
      content: { 'application/json': { schema: { $ref: '#/components/schemas/WebhookAccepted' } } },
    },
  };
  for (const [status, description] of Object.entries(WEBHOOK_ERRORS)) {
    responses[status] = { description, content: { 'application/json': { schema: ERROR_REF } } };
  }
  return {
    post: {
      tags: ['webhooks'],
      operationId: operationId(op.path),
      summary: `Webhook of workflow ${op.workflow}`,
      description: [op.description, VERIFY_NOTES[op.verify]].filter(Boolean).join('\n\n'),
      security: [],
      parameters: op.signatureHeaders.map((name) => ({
        name,
        in: 'header',
        required: true,
        schema: { type: 'string' },
        description: 'Signature data, verified on the raw body',
      })),
      requestBody: { required: true, content },
      responses,
    },
  };
}

/** A JSON Schema's own `$schema`/`$id` would make the document's dialect ambiguous; the rest stays. */
function stripDialect(schema: Record<string, unknown>): JsonObject {
  const { $schema: _, $id: __, ...rest } = schema;
  return rest;
}

/**
 * The OpenAPI 3.1 document of `app`'s routes, plus one operation per webhook workflow, a bearer
 * scheme when API tokens are configured, and the error responses every route shares.
 */
export function buildDocument(app: OpenAPIHono, deps: ApiDeps, extra: OpenApiExtra = {}): OpenApiDocument {
  const doc = app.getOpenAPI31Document({
    openapi: '3.1.0',
    info: {
      title: 'Baton API',
      version: pkg.version,
      description:
        'Workflows, runs, actions and webhooks of a Baton server. Every error is JSON ' +
        '`{ "error": { "code", "message", "details" } }`; see docs/api.md.',
    },
    tags: [
      { name: 'workflows', description: 'Workflow files, their versions, starting runs, validation' },
      { name: 'runs', description: 'Runs, their tasks and logs; cancel and retry' },
      { name: 'actions', description: 'The action catalogue' },
      { name: 'connections', description: 'OAuth2 connections (connect in a browser on /connections)' },
      { name: 'secrets', description: 'The encrypted secret store (names only; values go in, never out)' },
      { name: 'webhooks', description: 'One operation per workflow with a webhook trigger' },
      { name: 'health', description: 'Liveness and readiness' },
    ],
  });
  doc.components ??= {};
  doc.components.schemas ??= {};
  doc.paths ??= {};
  const components = doc.components;
  const schemas = components.schemas as JsonObject;
  const paths = doc.paths as JsonObject;
  const operations = extra.webhookOperations?.() ?? [];
  if (operations.length > 0) schemas.WebhookAccepted = WEBHOOK_ACCEPTED;
  for (const op of operations) {
    const path = op.path.startsWith('/hooks/') ? op.path : `/hooks/${op.path.replace(/^\/+/, '')}`;
    paths[path] = webhookOperation({ ...op, path });
  }
  if (deps.config.apiTokens.length > 0) {
    components.securitySchemes = {
      bearerAuth: { type: 'http', scheme: 'bearer', description: 'One of BATON_API_TOKENS' },
    };
    doc.security = [{ bearerAuth: [] }];
  }
  return doc;
}
