import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type CliProcess, REPO, startCli } from '../helpers/cli.ts';
import { waitFor } from '../helpers/wait-for.ts';

async function serve(dir: string): Promise<{ proc: CliProcess; url: string }> {
  const proc = startCli(['serve'], {
    PORT: '0',
    BATON_DATA_DIR: dir,
    BATON_FILES_DIR: join(dir, 'files'),
    BATON_WORKFLOWS_DIR: join(REPO, 'test/fixtures/workflows/chaos'),
    BATON_LEASE_TTL: '2s',
    BATON_RECONCILE_INTERVAL: '500ms',
  });
  const url = await waitFor(() => /Baton on (http:\/\/\S+)/.exec(proc.stderr())?.[1], {
    timeoutMs: 20_000,
    message: 'serve printed its address',
  });
  return { proc, url };
}

describe('embedded mode across a crash', () => {
  it('resumes a run in progress when the killed process starts again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'baton-embedded-restart-'));
    const counter = join(dir, 'counter.log');
    let { proc, url } = await serve(dir);
    try {
      const res = await fetch(`${url}/api/workflows/chaos-pipeline/runs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ inputs: { counter, pause: '1' } }),
      });
      expect(res.status).toBe(201);
      const { run } = (await res.json()) as { run: { id: string } };
      const taskStatus = async (base: string) => {
        const body = (await (await fetch(`${base}/api/runs/${run.id}`)).json()) as {
          run: { status: string };
          tasks: { task_id: string; status: string }[];
        };
        return body;
      };
      await waitFor(
        async () => (await taskStatus(url)).tasks.some((t) => t.task_id === 'A' && t.status === 'succeeded'),
        {
          timeoutMs: 20_000,
        },
      );
      proc.signal('SIGKILL');
      await proc.done;

      ({ proc, url } = await serve(dir));
      await waitFor(async () => (await taskStatus(url)).run.status === 'succeeded', {
        timeoutMs: 40_000,
        message: 'the run finished after the restart',
      });
      const lines = readFileSync(counter, 'utf8').trim().split('\n');
      expect(lines.filter((l) => l === `${run.id} A`)).toHaveLength(1);
      for (const task of ['B', 'C', 'D', 'E']) expect(lines).toContain(`${run.id} ${task}`);
    } finally {
      proc.signal('SIGKILL');
      await proc.done;
    }
  });
});
