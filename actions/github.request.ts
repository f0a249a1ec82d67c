import { z } from 'zod';
import { defineAction } from '../src/plugins/define-action.ts';
import { githubCall } from '../src/plugins/github.ts';

const input = z.strictObject({
  connection: z.string().min(1).describe('name of an OAuth2 connection (Connections page)'),
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).default('GET'),
  path: z.string().startsWith('/').describe('REST path under the API URL, e.g. /repos/octo/hello/issues'),
  query: z.record(z.string(), z.string()).optional(),
  body: z.unknown().optional().describe('sent as JSON'),
  fail_on_status: z.boolean().default(true).describe('a 4xx/5xx answer fails the task'),
});

const output = z.object({
  status: z.int(),
  headers: z.record(z.string(), z.string()),
  body: z.unknown(),
});

export default defineAction({
  name: 'github.request',
  description:
    'Any GitHub REST call through an OAuth2 connection; the token is added and refreshed by Baton.',
  input,
  output,
  async run(ctx) {
    const { connection, method, path, query, body, fail_on_status } = ctx.input;
    const result = await githubCall(
      ctx,
      connection,
      { method, path, query, body },
      { failOnStatus: fail_on_status },
    );
    ctx.log.info(`${method} ${path} → ${result.status}`);
    return result;
  },
});
