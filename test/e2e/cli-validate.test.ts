import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, scratchEnv } from '../helpers/cli.ts';

function brokenDir() {
  const dir = mkdtempSync(join(tmpdir(), 'baton-validate-'));
  writeFileSync(join(dir, 'good.yaml'), 'steps:\n  - run: echo ok\n');
  writeFileSync(
    join(dir, 'bad.yaml'),
    [
      'tasks:',
      '  a:',
      '    action: http.requets',
      '  b:',
      '    run: echo "{{ tasks.a.output }}"',
      '    depends_on: [c]',
      '',
    ].join('\n'),
  );
  return dir;
}

describe('baton validate', () => {
  it('passes the example workflows', async () => {
    const r = await runCli(['validate'], scratchEnv());
    expect(r.stdout).toMatch(/✔ \d+ workflow files valid/);
    expect(r.code).toBe(0);
  });

  it('runs from any folder, not only from the checkout (the pages JSX does not depend on its tsconfig)', async () => {
    const elsewhere = mkdtempSync(join(tmpdir(), 'baton-cwd-'));
    writeFileSync(join(elsewhere, 'only.yaml'), 'steps:\n  - run: echo ok\n');
    const r = await runCli(['validate', elsewhere], scratchEnv(), elsewhere);
    expect(r.stderr).not.toMatch(/Cannot find module/);
    expect(r.stdout).toMatch(/✔ 1 workflow file/);
    expect(r.code).toBe(0);
  });

  it('reports every problem with file:line:column and exits 1', async () => {
    const dir = brokenDir();
    const r = await runCli(['validate', dir], scratchEnv());
    expect(r.code).toBe(1);
    const bad = join(dir, 'bad.yaml');
    expect(r.stdout).toContain(`${bad}:3:13: `);
    expect(r.stdout).toContain('did you mean "http.request"?');
    expect(r.stdout).toContain(
      `${bad}:5:16: task "b": "run" uses {{ tasks.a.output }}; write ${'${'}tasks.a.output} instead`,
    );
    expect(r.stdout).toMatch(new RegExp(`${bad}:6:\\d+: .*"c"`));
    expect(r.stdout).toContain('problem(s) in 2 workflow files');
  });

  it('prints GitHub annotations and JSON', async () => {
    const dir = brokenDir();
    const gh = await runCli(['validate', dir, '--format', 'github'], scratchEnv());
    expect(gh.code).toBe(1);
    expect(gh.stdout).toMatch(/^::error file=.*bad\.yaml,line=3,col=13::/m);
    const js = await runCli(['validate', join(dir, 'bad.yaml'), '--format', 'json'], scratchEnv());
    const problems = JSON.parse(js.stdout);
    expect(problems.length).toBeGreaterThanOrEqual(3);
    expect(problems[0]).toMatchObject({ file: join(dir, 'bad.yaml'), line: 3, column: 13 });
  });

  it('rejects an unknown --format', async () => {
    const r = await runCli(['validate', '--format', 'xml'], scratchEnv());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--format must be one of text, json, github');
  });
});

describe('baton graph', () => {
  it('prints Mermaid and DOT', async () => {
    const m = await runCli(['graph', 'data-pipeline'], scratchEnv());
    expect(m.code).toBe(0);
    expect(m.stdout).toContain('flowchart TD');
    expect(m.stdout).toContain('  extract --> clean');
    expect(m.stdout).toContain('  profile --> load');
    const d = await runCli(['graph', 'workflows/nightly-report.yaml', '--format', 'dot'], scratchEnv());
    expect(d.stdout).toContain('"report" -> "on_trouble" [label="on_failure"];');
  });

  it('names the workflows it knows when the name is wrong', async () => {
    const r = await runCli(['graph', 'no-such-flow'], scratchEnv());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no workflow named "no-such-flow"');
    expect(r.stderr).toContain('data-pipeline');
  });
});
