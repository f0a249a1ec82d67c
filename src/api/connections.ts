import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { Connections } from '../connections/service.ts';
import { NotFoundError } from '../errors.ts';
import type { ApiDeps } from './deps.ts';
import { errorResponses } from './schemas.ts';

const ConnectionInfo = z
  .object({
    name: z.string().openapi({ example: 'github' }),
    provider: z.string().openapi({ example: 'github' }),
    account: z.string().nullable().openapi({ example: 'octocat' }),
    scopes: z.array(z.string()),
    expires_at: z.string().nullable().openapi({ format: 'date-time', description: 'null: does not expire' }),
    status: z.enum(['connected', 'needs_reconnect']),
    last_error: z.string().nullable(),
    refreshed_at: z.string().nullable().openapi({ format: 'date-time' }),
    created_at: z.string().openapi({ format: 'date-time' }),
  })
  .openapi('Connection');

const listRoute = createRoute({
  method: 'get',
  path: '/api/connections',
  tags: ['connections'],
  operationId: 'listConnections',
  summary: 'OAuth2 connections: provider, account, scopes, expiry and status; never tokens',
  description: 'Connecting takes a browser: use the Connect button on the Connections page (/connections).',
  responses: {
    200: {
      description: 'Connections, by name',
      content: { 'application/json': { schema: z.object({ connections: z.array(ConnectionInfo) }) } },
    },
    ...errorResponses(),
  },
});

const deleteRoute = createRoute({
  method: 'delete',
  path: '/api/connections/{name}',
  tags: ['connections'],
  operationId: 'deleteConnection',
  summary: 'Disconnect: forget the tokens of a connection',
  request: { params: z.object({ name: z.string().openapi({ param: { name: 'name', in: 'path' } }) }) },
  responses: { 204: { description: 'Disconnected' }, ...errorResponses(404) },
});

function connectionsOf(deps: ApiDeps): Connections {
  if (!deps.connections) throw new NotFoundError('connections are not available on this server');
  return deps.connections;
}

export function registerConnectionRoutes(app: OpenAPIHono, deps: ApiDeps): void {
  app.openapi(listRoute, async (c) => {
    const rows = await connectionsOf(deps).list();
    const iso = (d: Date | null) => (d ? d.toISOString() : null);
    const connections = rows.map((r) => ({
      name: r.name,
      provider: r.provider,
      account: r.account,
      scopes: r.scopes.split(' ').filter(Boolean),
      expires_at: iso(r.expiresAt),
      status: r.status as 'connected' | 'needs_reconnect',
      last_error: r.lastError,
      refreshed_at: iso(r.refreshedAt),
      created_at: r.createdAt.toISOString(),
    }));
    return c.json({ connections }, 200);
  });

  app.openapi(deleteRoute, async (c) => {
    await connectionsOf(deps).disconnect(c.req.valid('param').name);
    return c.body(null, 204);
  });
}
