import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli, scratchEnv } from '../helpers/cli.ts';

const git = (cwd: string, ...args: string[]) => {
  const r = spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], {
    cwd,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
};

const write = (root: string, file: string, text: string) => {
  mkdirSync(dirname(join(root, file)), { recursive: true });
  writeFileSync(join(root, file), text);
};

const BASE = `name: hello
on:
  schedule:
    - cron: "0 * * * *"
tasks:
  greet:
    action: log
    inputs: { message: hi }
`;

const HEAD = `name: hello
on:
  schedule:
    - cron: "0 6 * * *"
  webhook: { verify: github, secret: HOOK_SECRET }
tasks:
  greet:
    action: log
    retry: { attempts: 2 }
    inputs: { message: hi }
  notify:
    action: github.request
    depends_on: [greet]
    inputs: { connection: github, method: GET, path: /user }
`;

let repo: string;
let env: Record<string, string>;

beforeAll(() => {
  repo = mkdtempSync(join(tmpdir(), 'baton-plan-'));
  // The CLI runs from Baton's folder; the plan finds the repository from the workflows folder.
  env = scratchEnv({
    BATON_WORKFLOWS_DIR: join(repo, 'workflows'),
    BATON_ACTIONS_DIR: join(repo, 'actions'),
  });
  git(repo, 'init', '-q', '-b', 'main');
  write(repo, 'workflows/hello.yaml', BASE);
  write(repo, 'workflows/old.yaml', 'tasks:\n  a:\n    action: log\n    inputs: { message: old }\n');
  write(repo, 'actions/log.ts', '// v1\n');
  git(repo, 'add', '.');
  git(repo, 'commit', '-q', '-m', 'base');
  git(repo, 'checkout', '-q', '-b', 'feature');
  write(repo, 'workflows/hello.yaml', HEAD);
  git(repo, 'mv', 'workflows/old.yaml', 'workflows/renamed.yaml');
  write(repo, 'actions/log.ts', '// v2\n');
  // Neither workflows nor actions: a workflow test, a dot-folder, an action's test.
  write(repo, 'workflows/hello.test.yaml', 'workflow: hello\n');
  write(repo, 'workflows/.drafts/x.yaml', 'not: [valid\n');
  write(repo, 'actions/log.test.ts', '// test\n');
  git(repo, 'add', '.');
  git(repo, 'commit', '-q', '-m', 'head');
  git(repo, 'checkout', '-q', '-b', 'broken');
  write(
    repo,
    'workflows/bad.yaml',
    'tasks:\n  a:\n    action: log\n    depends_on: [missing]\n    inputs: { message: x }\n',
  );
  git(repo, 'add', '.');
  git(repo, 'commit', '-q', '-m', 'broken');
  git(repo, 'checkout', '-q', 'feature');
  return () => rmSync(repo, { recursive: true, force: true });
});

describe('baton plan', () => {
  it('prints each kind of change between two refs as text, exit 0', async () => {
    const r = await runCli(['plan', '--base', 'main', '--head', 'feature'], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('baton plan: main → feature');
    expect(r.stdout).toContain('old workflows/old.yaml → renamed workflows/renamed.yaml');
    expect(r.stdout).toContain('task notify added');
    expect(r.stdout).toContain('task greet changed: retry');
    expect(r.stdout).toContain('webhook added, verification github (secret HOOK_SECRET)');
    expect(r.stdout).toMatch(/schedule before: 0 \* \* \* \* UTC: next \S+, \S+, \S+/);
    expect(r.stdout).toMatch(/schedule after: 0 6 \* \* \* UTC: next \S+T06:00:00.000Z, /);
    expect(r.stdout).toContain('HOOK_SECRET — hello, on.webhook');
    expect(r.stdout).toContain('github — hello, task "notify"');
    expect(r.stdout).toContain('log (actions/log.ts), used by hello, renamed');
    expect(r.stdout).toContain('✔ no problems in the head');
  });

  it('compares with the working tree by default and says so', async () => {
    const r = await runCli(['plan', '--base', 'feature'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('feature → the working tree');
    expect(r.stdout).toContain('no changes to workflows or actions');
  });

  it('exits 1 with each problem of the head and its line, as markdown', async () => {
    const r = await runCli(['plan', '--base', 'main', '--head', 'broken', '--format', 'markdown'], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('## baton plan');
    expect(r.stdout).toContain('### Workflows changed');
    expect(r.stdout).toMatch(/### ❌ 1 problem\(s\) in the head/);
    expect(r.stdout).toMatch(/\| workflows\/bad\.yaml \| 4:\d+ \| .*missing/);
  });

  it('prints a stable JSON shape', async () => {
    const r = await runCli(['plan', '--base', 'main', '--head', 'feature', '--format', 'json'], env);
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout);
    expect(Object.keys(plan)).toEqual([
      'base',
      'head',
      'ok',
      'workflows',
      'secrets',
      'connections',
      'actions',
      'problems',
    ]);
    expect(plan.workflows.changed[0].schedule.after[0].next).toHaveLength(3);
    expect(plan.actions.changed).toEqual([
      { file: 'actions/log.ts', id: 'log', usedBy: ['hello', 'renamed'] },
    ]);
    expect(plan.actions.added).toEqual([]);
    expect(plan.workflows.added).toEqual([]);
  });

  it('exits 2 on an unknown ref or a missing --base', async () => {
    const r = await runCli(['plan', '--base', 'no-such-branch'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown git ref "no-such-branch"');
    expect((await runCli(['plan'], env)).code).toBe(2);
  });
});
