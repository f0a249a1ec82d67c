import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { secretsFromEnv } from '../config.ts';
import { Redactor } from '../engine/redact.ts';
import { ConflictError } from '../errors.ts';
import { SECRET_NAME } from '../secrets/vault.ts';
import type { ApiDeps } from './deps.ts';
import { errorResponses } from './schemas.ts';

const SecretInfo = z
  .object({
    name: z.string().openapi({ example: 'SLACK_WEBHOOK_URL' }),
    source: z.enum(['store', 'env']).openapi({ description: 'The encrypted store, or BATON_SECRET_<NAME>' }),
    updated_at: z.string().nullable().openapi({ format: 'date-time', description: 'Store only' }),
  })
  .openapi('SecretInfo');

const NameParam = z.object({
  name: z
    .string()
    .regex(SECRET_NAME, 'letters, digits and _, not starting with a digit')
    .openapi({ param: { name: 'name', in: 'path' }, example: 'SLACK_WEBHOOK_URL' }),
});

const listRoute = createRoute({
  method: 'get',
  path: '/api/secrets',
  tags: ['secrets'],
  operationId: 'listSecrets',
  summary: 'Secret names and where each comes from; never values',
  responses: {
    200: {
      description: 'Secrets, by name',
      content: { 'application/json': { schema: z.object({ secrets: z.array(SecretInfo) }) } },
    },
    ...errorResponses(),
  },
});

const putRoute = createRoute({
  method: 'put',
  path: '/api/secrets/{name}',
  tags: ['secrets'],
  operationId: 'setSecret',
  summary: 'Store a secret, encrypted (replaces a stored value of the same name)',
  description: 'Needs BATON_MASTER_KEY on the server (409 without it). The value is never returned.',
  request: {
    params: NameParam,
    body: {
      required: true,
      content: {
        'application/json': { schema: z.object({ value: z.string().min(1) }).openapi('SecretValue') },
      },
    },
  },
  responses: {
    200: {
      description: 'Stored',
      content: { 'application/json': { schema: z.object({ secret: SecretInfo }) } },
    },
    ...errorResponses(422, 409),
  },
});

const deleteRoute = createRoute({
  method: 'delete',
  path: '/api/secrets/{name}',
  tags: ['secrets'],
  operationId: 'deleteSecret',
  summary: 'Remove a secret from the store (an environment secret of that name then applies)',
  request: { params: NameParam },
  responses: {
    204: { description: 'Removed' },
    ...errorResponses(422, 404),
  },
});

function vaultOf(deps: ApiDeps) {
  if (!deps.vault) throw new ConflictError('this server has no secret store');
  return deps.vault;
}

export function registerSecretRoutes(app: OpenAPIHono, deps: ApiDeps): void {
  app.openapi(listRoute, async (c) => {
    const stored = deps.vault ? await deps.vault.list() : [];
    const names = new Set(stored.map((s) => s.name));
    const secrets = [
      ...stored.map((s) => ({
        name: s.name,
        source: 'store' as const,
        updated_at: s.updatedAt.toISOString(),
      })),
      ...Object.keys(secretsFromEnv(process.env))
        .filter((n) => !names.has(n))
        .map((name) => ({ name, source: 'env' as const, updated_at: null })),
    ].sort((a, b) => a.name.localeCompare(b.name));
    return c.json({ secrets }, 200);
  });

  app.openapi(putRoute, async (c) => {
    const { name } = c.req.valid('param');
    const vault = vaultOf(deps);
    await vault.set(name, c.req.valid('json').value);
    deps.secretSource?.invalidate();
    const row = (await vault.list()).find((s) => s.name === name);
    const updated = (row?.updatedAt ?? new Date()).toISOString();
    return c.json({ secret: { name, source: 'store' as const, updated_at: updated } }, 200);
  });

  app.openapi(deleteRoute, async (c) => {
    await vaultOf(deps).remove(c.req.valid('param').name);
    deps.secretSource?.invalidate();
    return c.body(null, 204);
  });
}

const redactors = new WeakMap<object, Redactor>();

/**
 * Last line of defence for the API: any secret value (or its encoded forms) in a JSON answer is
 * masked, even one stored before the secret existed. Values already masked at write time pass as they are.
 */
export function redactResponses(deps: ApiDeps): MiddlewareHandler {
  return async function redactSecrets(c, next) {
    await next();
    if (!c.res.headers.get('content-type')?.includes('application/json')) return;
    const values = await (deps.secretSource?.all() ?? Promise.resolve(secretsFromEnv(process.env))).catch(
      // A store that cannot be read (wrong master key) must not take the API down; env values still mask.
      () => secretsFromEnv(process.env),
    );
    if (Object.keys(values).length === 0) return;
    // The source hands out the same object until its values change; making a Redactor (every
    // encoded form of every secret) for each response cost more than masking the response.
    let redactor = redactors.get(values);
    if (!redactor) {
      redactor = new Redactor(Object.values(values));
      redactors.set(values, redactor);
    }
    const text = await c.res.clone().text();
    const masked = redactor.text(text);
    if (masked === text) return;
    const headers = new Headers(c.res.headers);
    headers.delete('content-length'); // the masked body is shorter
    c.res = new Response(masked, { status: c.res.status, headers });
  };
}
