import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import createClient from 'openapi-fetch';
import openapiTS, { astToString } from 'openapi-typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiContext, createApiContext } from './api-context.ts';

/**
 * The Done-when check: types generated from /api/openapi.json (openapi-typescript) type-check a
 * client program (openapi-fetch) that then drives the API. Generated at test time in a temp dir.
 */

const REPO = resolve(import.meta.dirname, '../..');

const CLIENT = `import type { Client } from 'openapi-fetch';
import type { paths } from './api.ts';

export async function drive(client: Client<paths>) {
  const list = await client.GET('/api/workflows');
  if (!list.data) throw new Error('listing workflows failed');
  const names: string[] = list.data.workflows.map((w) => w.name);
  const valid: boolean[] = list.data.workflows.map((w) => w.valid);

  const started = await client.POST('/api/workflows/{name}/runs', {
    params: { path: { name: 'hello' }, header: { 'idempotency-key': 'typed-client-1' } },
    body: { inputs: { who: 'typed' } },
  });
  if (!started.data) throw new Error('starting a run failed: ' + started.error?.error.message);
  const runId: string = started.data.run.id;
  const repeated = await client.POST('/api/workflows/{name}/runs', {
    params: { path: { name: 'hello' }, header: { 'idempotency-key': 'typed-client-1' } },
    body: { inputs: { who: 'typed' } },
  });

  const got = await client.GET('/api/runs/{id}', { params: { path: { id: runId } } });
  const status: 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'timed_out' | undefined =
    got.data?.run.status;

  const page = await client.GET('/api/runs', { params: { query: { workflow: 'hello', limit: 10 } } });
  const cursor: string | null | undefined = page.data?.next_cursor;

  const bad = await client.POST('/api/workflows/{name}/runs', {
    params: { path: { name: 'hello' } },
    body: { inputs: { who: 42 } },
  });
  const missing = await client.GET('/api/runs/{id}', {
    params: { path: { id: '01968a3e-7c1a-7cde-9f00-2b3c4d5e6f70' } },
  });
  return {
    names,
    valid,
    created: started.response.status,
    repeated: { status: repeated.response.status, id: repeated.data?.run.id },
    runId,
    status,
    tasks: got.data?.tasks.length,
    pageIds: page.data?.runs.map((r) => r.id),
    cursor,
    badCode: bad.error?.error.code,
    badStatus: bad.response.status,
    missingCode: missing.error?.error.code,
  };
}
`;

/** Mistakes the generated types must catch (each line must be a type error, or tsc fails). */
const WRONG = `import type { Client } from 'openapi-fetch';
import type { paths } from './api.ts';

export async function wrong(client: Client<paths>) {
  // @ts-expect-error: no such route
  await client.GET('/api/workflow');
  // @ts-expect-error: inputs are an object, not a string
  await client.POST('/api/workflows/{name}/runs', { params: { path: { name: 'x' } }, body: { inputs: 'who=x' } });
  // @ts-expect-error: the path parameter is required
  await client.GET('/api/runs/{id}', {});
  const res = await client.GET('/api/runs');
  // @ts-expect-error: runs have no field "state"
  res.data?.runs[0]?.state;
}
`;

let ctx: ApiContext;
let dir: string;
beforeAll(async () => {
  ctx = await createApiContext();
  ctx.registry.setFile(
    'hello.yaml',
    'name: hello\non:\n  manual:\n    inputs:\n      who: { type: string, required: true }\ntasks:\n  greet:\n    action: test.step\n    inputs: { label: hi }\n',
  );
  dir = mkdtempSync(join(tmpdir(), 'baton-client-'));
});
afterAll(async () => {
  await ctx?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a typed client generated from /api/openapi.json', () => {
  it('type-checks against the generated types and drives the API', async () => {
    const doc = (await ctx.call('GET', '/api/openapi.json')).body;
    const ast = await openapiTS(doc);
    const types = astToString(ast);
    expect(types).toContain('"/api/workflows/{name}/runs"');
    writeFileSync(join(dir, 'api.ts'), types);
    writeFileSync(join(dir, 'client.ts'), CLIENT);
    writeFileSync(join(dir, 'wrong.ts'), WRONG);
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          target: 'ES2022',
          lib: ['ES2022', 'DOM'],
          module: 'preserve',
          moduleResolution: 'bundler',
          allowImportingTsExtensions: true,
          skipLibCheck: true,
          types: [],
          paths: { 'openapi-fetch': [join(REPO, 'node_modules/openapi-fetch/dist/index.d.mts')] },
        },
        files: ['api.ts', 'client.ts', 'wrong.ts'],
      }),
    );
    const tsc = spawnSync(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', dir], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(tsc.status, `${tsc.stdout}${tsc.stderr}`).toBe(0);

    const { drive } = await import(join(dir, 'client.ts'));
    const client = createClient({
      baseUrl: 'http://baton.test',
      fetch: async (req: Request) => ctx.app.request(req),
    });
    const out = await drive(client);
    expect(out).toMatchObject({
      names: ['hello'],
      valid: [true],
      created: 201,
      repeated: { status: 200, id: out.runId },
      status: 'queued',
      tasks: 0,
      pageIds: [out.runId],
      cursor: null,
      badCode: 'validation',
      badStatus: 422,
      missingCode: 'not_found',
    });
  }, 60_000);
});
