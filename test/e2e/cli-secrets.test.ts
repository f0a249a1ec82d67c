import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, scratchEnv } from '../helpers/cli.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

const VALUE = 'cli-secret-value-0123456789';
let database: TestDatabase;
let env: Record<string, string>;

beforeAll(async () => {
  database = await createTestDatabase();
  env = scratchEnv({ DATABASE_URL: database.url, BATON_MASTER_KEY: 'cli-master-key-one' });
});
afterAll(async () => {
  await database?.drop();
});

describe('baton secrets', () => {
  it('set reads the value from stdin; list shows names and sources, never values; rm removes', async () => {
    const set = await runCli(['secrets', 'set', 'CLI_TOKEN'], env, undefined, `${VALUE}\n`);
    expect(set.stderr).toBe('');
    expect(set.stdout).toContain('secret CLI_TOKEN stored');
    expect(set.code).toBe(0);

    const list = await runCli(['secrets', 'list', '--json'], { ...env, BATON_SECRET_ENV_ONE: 'env-value-1' });
    expect(list.code).toBe(0);
    const rows = JSON.parse(list.stdout) as { name: string; source: string }[];
    expect(rows.map((r) => [r.name, r.source])).toEqual([
      ['CLI_TOKEN', 'store'],
      ['ENV_ONE', 'env'],
    ]);
    expect(list.stdout).not.toContain(VALUE);
    expect(list.stdout).not.toContain('env-value-1');

    const rm = await runCli(['secrets', 'rm', 'CLI_TOKEN'], env);
    expect(rm.code).toBe(0);
    const again = await runCli(['secrets', 'rm', 'CLI_TOKEN'], env);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('no secret named CLI_TOKEN');
  });

  it('refuses to store without a master key, saying so', async () => {
    const r = await runCli(['secrets', 'set', 'X_TOKEN'], { ...env, BATON_MASTER_KEY: '' }, undefined, 'v');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('BATON_MASTER_KEY');
  });

  it('rotate-key re-wraps: the new key reads every value, the old one no longer does', async () => {
    await runCli(['secrets', 'set', 'ROT_A'], env, undefined, 'rotate-value-a');
    const rotate = await runCli(['secrets', 'rotate-key'], {
      ...env,
      BATON_NEW_MASTER_KEY: 'cli-master-key-two',
    });
    expect(rotate.stdout).toContain('re-wrapped');
    expect(rotate.code).toBe(0);
    // The store opens with the new key only: writing needs the data key.
    const withOld = await runCli(['secrets', 'set', 'ROT_B'], env, undefined, 'x-value');
    expect(withOld.stderr).toContain('BATON_MASTER_KEY does not open the secret store');
    const withNew = await runCli(
      ['secrets', 'set', 'ROT_B'],
      { ...env, BATON_MASTER_KEY: 'cli-master-key-two' },
      undefined,
      'rotate-value-b',
    );
    expect(withNew.code).toBe(0);
  });

  it('serve refuses to start with a master key that does not open the store, or a bad provider', async () => {
    const wrong = await runCli(['serve'], { ...env, PORT: '0', BATON_MASTER_KEY: 'not-the-key' });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('BATON_MASTER_KEY does not open the secret store');
    const provider = await runCli(['serve'], {
      ...env,
      PORT: '0',
      BATON_MASTER_KEY: 'cli-master-key-two',
      BATON_OAUTH_ACME_CLIENT_ID: 'x',
      BATON_OAUTH_ACME_CLIENT_SECRET: 'ACME_SECRET',
    });
    expect(provider.code).toBe(2);
    expect(provider.stderr).toContain('provider "acme" needs authorize_url, token_url and api_url');
  });
});

describe('baton validate and secrets', () => {
  it('warns by name about secrets a workflow needs that are not configured', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'baton-validate-secrets-'));
    writeFileSync(
      join(dir, 'needs.yaml'),
      [
        'tasks:',
        '  call:',
        '    action: http.request',
        '    inputs:',
        '      url: https://example.com',
        '      headers: { authorization: "Bearer ${secrets.API_TOKEN}" }',
        '  more:',
        '    run: echo "${secrets[\'SHELL_PASS\']}"',
        '    if: ${secrets.STORED_ONE != ""}',
        '',
      ].join('\n'),
    );
    await runCli(
      ['secrets', 'set', 'STORED_ONE'],
      { ...env, BATON_MASTER_KEY: 'cli-master-key-two' },
      undefined,
      'v1234',
    );
    const r = await runCli(['validate', dir], { ...env, BATON_SECRET_SHELL_PASS: 'shell-pass-value' });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      'workflow "needs" needs secret API_TOKEN (task "call"), which is not configured',
    );
    expect(r.stdout).not.toContain('SHELL_PASS');
    expect(r.stdout).not.toContain('STORED_ONE');
    expect(r.stdout).not.toContain('shell-pass-value');
  });
});
