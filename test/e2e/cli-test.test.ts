import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, scratchEnv } from '../helpers/cli.ts';

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'baton-cli-test-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const FLOW = 'steps:\n  - id: hi\n    action: log\n    inputs: { message: hi }\n';

describe('baton test', () => {
  it('passes the tests of the example workflows', async () => {
    const r = await runCli(['test'], scratchEnv());
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/✓ workflows\/hello\.test\.yaml › /);
    expect(r.stdout).toMatch(/^\d+ passed, 0 failed$/m);
    expect(r.code).toBe(0);
  });

  it('prints each case and exits 1 when one fails', async () => {
    const dir = folder({
      'flow.yaml': FLOW,
      'flow.test.yaml':
        'cases:\n  - name: good\n  - name: bad\n    expect: { tasks: { hi: { status: skipped } } }\n',
    });
    const r = await runCli(['test', dir], scratchEnv());
    expect(r.stdout).toMatch(/✓ .*flow\.test\.yaml › good \(\d+ ms\)/);
    expect(r.stdout).toMatch(/✗ .*flow\.test\.yaml › bad \(\d+ ms\)/);
    expect(r.stdout).toContain('task "hi": expected status skipped, got succeeded');
    expect(r.stdout.trim().split('\n').at(-1)).toBe('1 passed, 1 failed');
    expect(r.code).toBe(1);
  });

  it('exits 2 on a bad test file, with file:line:column', async () => {
    const dir = folder({ 'flow.yaml': FLOW, 'flow.test.yaml': 'cases:\n  - nme: typo\n' });
    const r = await runCli(['test', dir], scratchEnv());
    expect(r.stderr).toContain(`${join(dir, 'flow.test.yaml')}:2:`);
    expect(r.code).toBe(2);
  });

  it('exits 2 on an unknown workflow', async () => {
    const dir = folder({ 'other.test.yaml': 'cases:\n  - name: x\n' });
    const r = await runCli(['test', dir], scratchEnv());
    expect(r.stderr).toContain('unknown workflow "other"');
    expect(r.code).toBe(2);
  });

  it('--format json gives the counts and the cases', async () => {
    const dir = folder({ 'flow.yaml': FLOW, 'flow.test.yaml': 'cases:\n  - name: good\n' });
    const r = await runCli(['test', dir, '--format', 'json'], scratchEnv());
    expect(JSON.parse(r.stdout)).toMatchObject({
      passed: 1,
      failed: 0,
      cases: [{ name: 'good', passed: true }],
    });
    expect(r.code).toBe(0);
  });
});
