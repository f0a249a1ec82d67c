import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, scratchEnv, startCli } from '../helpers/cli.ts';
import { json, startServer } from '../helpers/http-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

describe('baton run', () => {
  it('runs the data pipeline: plan first, tasks as they go, exit 0', async () => {
    const env = scratchEnv();
    const r = await runCli(['run', 'workflows/data-pipeline.yaml'], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('plan  extract -> [clean, profile] -> enrich -> load');
    expect(r.stdout).toMatch(/▶ extract \(shell\)/);
    expect(r.stdout).toMatch(/✔ load in \d+(ms|\.\d+s)/);
    expect(r.stdout).toMatch(/✔ run succeeded in .*\(run [0-9a-f-]{36}\)/);
    const summary = JSON.parse(
      readFileSync(join(env.BATON_FILES_DIR as string, 'pipeline/summary.json'), 'utf8'),
    );
    expect(summary).toMatchObject({ kept: 2, customers: ['ADA', 'CY'] });
  });

  it('takes --input, checks it against declared inputs, and prints JSON events with --json', async () => {
    const r = await runCli(['run', 'hello', '--input', '{"who": "Ada"}', '--json'], scratchEnv());
    expect(r.code).toBe(0);
    const events = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(events[0]).toMatchObject({
      type: 'run.status',
      status: 'running',
      plan: [['greet'], ['shout'], ['done']],
    });
    expect(events.at(-1)).toMatchObject({ type: 'run.status', status: 'succeeded' });
    const shout = events.find(
      (e) => e.type === 'task.status' && e.taskId === 'shout' && e.status === 'succeeded',
    );
    expect(shout.output.result.loud).toContain('HELLO, ADA!');
  });

  it('rejects bad inputs with exit 2 before running anything', async () => {
    const r = await runCli(['run', 'hello', '--input', '{"who": 5, "whom": 1}'], scratchEnv());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('input "who" must be a string (got number)');
    expect(r.stderr).toContain('unknown input "whom"');
    expect(r.stdout).toBe('');
    const bad = await runCli(['run', 'hello', '--input', '{nope'], scratchEnv());
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--input is not valid JSON');
  });

  it('exits 1 when a task fails, showing what failed and what was skipped', async () => {
    const env = scratchEnv();
    const file = join(env.BATON_DATA_DIR as string, 'failing.yaml');
    writeFileSync(
      file,
      'tasks:\n  a:\n    run: echo oops >&2; exit 3\n  b:\n    depends_on: [a]\n    run: echo never\n',
    );
    const r = await runCli(['run', file], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/✖ a failed in \d+ms: command exited with code 3/);
    expect(r.stdout).toContain('↷ b skipped: upstream task "a" failed');
    expect(r.stdout).toContain('✖ run failed');
  });

  it('refuses to run an invalid file, printing its problems with positions', async () => {
    const env = scratchEnv();
    const file = join(env.BATON_DATA_DIR as string, 'broken.yaml');
    writeFileSync(file, 'tasks:\n  a:\n    run: echo hi\n    depend_on: [b]\n');
    const r = await runCli(['run', file], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}:4:5:`);
    expect(r.stderr).toContain('did you mean "depends_on"?');
  });

  it('runs the webhook-to-Slack example against local GitHub and Slack stand-ins', async () => {
    const server = await startServer((req, res) => {
      if (req.url === '/repos/acme/api/issues/7') {
        json(res, 200, {
          number: 7,
          title: 'Login broken',
          html_url: 'https://github.test/acme/api/issues/7',
        });
      } else if (req.url === '/slack') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('ok');
      } else json(res, 404, { message: 'Not Found' });
    });
    try {
      const env = scratchEnv({
        BATON_HTTP_ALLOW: '127.0.0.1',
        BATON_SECRET_SLACK_WEBHOOK_URL: `${server.url}/slack`,
      });
      const input = JSON.stringify({ issue_api_url: `${server.url}/repos/acme/api/issues/7` });
      const r = await runCli(['run', 'github-issue-to-slack', '--input', input], env);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const slack = server.requests.find((q) => q.url === '/slack');
      expect(JSON.parse(slack?.body ?? '{}').text).toBe(
        'New issue #7: Login broken (https://github.test/acme/api/issues/7)',
      );
      // The webhook URL is a secret: it never shows in the output.
      expect(r.stdout).not.toContain(`${server.url}/slack`);
      const log = readFileSync(join(env.BATON_FILES_DIR as string, 'github/announced.log'), 'utf8');
      expect(log).toBe('https://github.test/acme/api/issues/7 succeeded\n');
    } finally {
      await server.close();
    }
  });

  it('runs the HTTP-to-file example against a local server', async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('Design for failure.');
    });
    try {
      const env = scratchEnv({ BATON_HTTP_ALLOW: '127.0.0.1' });
      const input = JSON.stringify({ url: `${server.url}/zen`, path: 'zen.txt' });
      const r = await runCli(['run', 'http-to-file', '--input', input], env);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(readFileSync(join(env.BATON_FILES_DIR as string, 'zen.txt'), 'utf8')).toBe(
        'Design for failure.',
      );
      expect(r.stdout).toContain('saved 19 bytes');
    } finally {
      await server.close();
    }
  });

  it('refuses a private address unless allow-listed', async () => {
    const server = await startServer((_req, res) => json(res, 200, {}));
    try {
      const input = JSON.stringify({ url: `${server.url}/x` });
      const r = await runCli(['run', 'http-to-file', '--input', input], scratchEnv());
      expect(r.code).toBe(1);
      expect(r.stdout).toContain('BATON_HTTP_ALLOW');
      expect(server.requests).toHaveLength(0);
    } finally {
      await server.close();
    }
  });

  it('runs the nightly report example', async () => {
    const env = scratchEnv();
    const r = await runCli(['run', 'nightly-report'], env);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('↷ on_trouble skipped');
    const reports = readdirSync(join(env.BATON_FILES_DIR as string, 'reports'));
    expect(reports).toHaveLength(1);
    expect(
      readFileSync(join(env.BATON_FILES_DIR as string, 'reports', reports[0] as string), 'utf8'),
    ).toMatch(/- disk used: \d+%/);
  });

  it('cancels on Ctrl-C: the shell task is killed and the run ends cancelled', async () => {
    const env = scratchEnv();
    const marker = join(env.BATON_DATA_DIR as string, 'child.pid');
    const file = join(env.BATON_DATA_DIR as string, 'slow.yaml');
    writeFileSync(file, `tasks:\n  slow:\n    run: sleep 120 & echo $! > ${marker}; wait\n`);
    const proc = startCli(['run', file], env);
    await waitFor(() => existsSync(marker) && readFileSync(marker, 'utf8').trim() !== '', {
      timeoutMs: 10_000,
    });
    const grandchild = Number(readFileSync(marker, 'utf8').trim());
    proc.signal('SIGINT');
    const r = await proc.done;
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('✖ run cancelled');
    await waitFor(() => !alive(grandchild), { message: `sleep ${grandchild} still alive` });
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('baton run timeouts', () => {
  it('a shell task that starts a grandchild and times out leaves no process behind', async () => {
    const env = scratchEnv();
    const marker = join(env.BATON_DATA_DIR as string, 'grandchild.pid');
    const file = join(env.BATON_DATA_DIR as string, 'timeout.yaml');
    writeFileSync(
      file,
      `tasks:\n  slow:\n    timeout: 500ms\n    run: bash -c 'sleep 120 & echo $! > ${marker}; wait'\n`,
    );
    const r = await runCli(['run', file], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('✖ slow timed out');
    expect(r.stdout).toContain('task "slow" timed out after 500ms');
    const grandchild = Number(readFileSync(marker, 'utf8').trim());
    expect(grandchild).toBeGreaterThan(0);
    await waitFor(() => !alive(grandchild), { message: `sleep ${grandchild} still alive` });
  });
});
