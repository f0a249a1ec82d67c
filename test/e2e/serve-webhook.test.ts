import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signGithub } from '../../src/triggers/webhook-sign.ts';
import { type CliProcess, startCli } from '../helpers/cli.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { dropTestPrefix, REDIS_TEST_URL, testPrefix } from '../helpers/redis.ts';
import { waitFor } from '../helpers/wait-for.ts';

const SECRET = 'e2e-webhook-secret';

function flow(version: string, counter: string): string {
  return [
    'on:',
    '  webhook: { verify: github, secret: GH_HOOK }',
    'tasks:',
    '  record:',
    `    run: echo "${version} \${trigger.body.n}" >> "${counter}"; sleep "\${trigger.body.pause}"`,
    '',
  ].join('\n');
}

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.drop();
});

describe('baton serve + baton worker on Postgres and Redis', () => {
  it('runs a GitHub-signed webhook; an edited file changes the next run, not the one in flight', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'baton-serve-e2e-'));
    const workflows = join(dir, 'workflows');
    const counter = join(dir, 'counter.log');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(workflows);
    writeFileSync(join(workflows, 'flow.yaml'), flow('v1', counter));
    const prefix = testPrefix();
    const env = {
      DATABASE_URL: database.url,
      REDIS_URL: REDIS_TEST_URL,
      BATON_QUEUE_PREFIX: prefix,
      BATON_WORKFLOWS_DIR: workflows,
      BATON_DATA_DIR: dir,
      BATON_SECRET_GH_HOOK: SECRET,
      PORT: '0',
      BATON_LOG_LEVEL: 'warn',
    };
    const procs: CliProcess[] = [];
    try {
      const serve = startCli(['serve'], env);
      procs.push(serve);
      procs.push(startCli(['worker', '--concurrency', '4'], env));
      const url = await waitFor(() => /Baton on (http:\/\/\S+)/.exec(serve.stderr())?.[1], {
        timeoutMs: 20_000,
      });

      const deliver = (payload: object, delivery: string, secret = SECRET) => {
        const body = JSON.stringify(payload);
        return fetch(`${url}/hooks/flow`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-github-event': 'issues',
            'x-github-delivery': delivery,
            ...signGithub(secret, body),
          },
          body,
        });
      };
      const run = async (id: string) =>
        (await (await fetch(`${url}/api/runs/${id}`)).json()) as {
          run: { status: string; version_id: string };
        };

      const bad = await deliver({ n: 0, pause: 0 }, 'd-0', 'wrong-secret');
      expect(bad.status).toBe(401);

      const first = await deliver({ n: 1, pause: 3 }, 'd-1');
      expect(first.status).toBe(202);
      const { run_id: firstId } = (await first.json()) as { run_id: string };
      await waitFor(async () => (await run(firstId)).run.status === 'running', { timeoutMs: 20_000 });

      // Edit the file while the first run is in flight; the registry picks it up within a second.
      const before = ((await (await fetch(`${url}/api/workflows/flow`)).json()) as { version: string })
        .version;
      writeFileSync(join(workflows, 'flow.yaml'), flow('v2', counter));
      await waitFor(
        async () =>
          ((await (await fetch(`${url}/api/workflows/flow`)).json()) as { version: string }).version !==
          before,
        { timeoutMs: 5000 },
      );
      const second = await deliver({ n: 2, pause: 0 }, 'd-2');
      expect(second.status).toBe(202);
      const { run_id: secondId } = (await second.json()) as { run_id: string };
      const repeat = await deliver({ n: 2, pause: 0 }, 'd-2');
      expect(((await repeat.json()) as { run_id: string }).run_id).toBe(secondId);

      await waitFor(async () => (await run(firstId)).run.status === 'succeeded', { timeoutMs: 30_000 });
      await waitFor(async () => (await run(secondId)).run.status === 'succeeded', { timeoutMs: 30_000 });
      expect((await run(firstId)).run.version_id).not.toBe((await run(secondId)).run.version_id);
      const lines = readFileSync(counter, 'utf8').trim().split('\n').sort();
      expect(lines).toEqual(['v1 1', 'v2 2']);
      const runs = (await (await fetch(`${url}/api/runs?workflow=flow`)).json()) as { runs: unknown[] };
      expect(runs.runs).toHaveLength(2);

      // SIGUSR2 asks for a full garbage collection (the bench reads memory after it); without the
      // handler it would end both processes.
      for (const p of procs) p.signal('SIGUSR2');
      const third = await deliver({ n: 3, pause: 0 }, 'd-3');
      expect(third.status).toBe(202);
      const { run_id: thirdId } = (await third.json()) as { run_id: string };
      await waitFor(async () => (await run(thirdId)).run.status === 'succeeded', { timeoutMs: 30_000 });
      expect(procs.every((p) => p.running())).toBe(true);
    } finally {
      for (const p of procs) p.signal('SIGKILL');
      await Promise.all(procs.map((p) => p.done));
      await dropTestPrefix(prefix);
    }
  });
});
