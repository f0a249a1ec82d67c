import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import fileRead from '../../../actions/file.read.ts';
import { NonRetriableError } from '../../../src/errors.ts';
import { callAction } from '../../helpers/action-context.ts';

function setup(outputLimitBytes?: number) {
  const base = mkdtempSync(join(tmpdir(), 'baton-read-'));
  const filesDir = join(base, 'files');
  const outside = join(base, 'outside');
  mkdirSync(filesDir);
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret.txt'), 'top secret');
  const read = (input: Record<string, unknown>) =>
    callAction(fileRead, input, { env: { filesDir, ...(outputLimitBytes ? { outputLimitBytes } : {}) } });
  return { base, filesDir, outside, read };
}

describe('file.read action', () => {
  it('reads text and reports its size in bytes', async () => {
    const { filesDir, read } = setup();
    mkdirSync(join(filesDir, 'notes'));
    writeFileSync(join(filesDir, 'notes/a.txt'), 'héllo\n');
    const { output } = await read({ path: 'notes//a.txt' });
    expect(output).toEqual({ path: 'notes/a.txt', content: 'héllo\n', bytes: 7 });
  });

  it('reads binary files as base64', async () => {
    const { filesDir, read } = setup();
    const bytes = Buffer.from([0, 255, 1, 128]);
    writeFileSync(join(filesDir, 'blob.bin'), bytes);
    const { output } = await read({ path: 'blob.bin', encoding: 'base64' });
    expect(output).toEqual({ path: 'blob.bin', content: bytes.toString('base64'), bytes: 4 });
  });

  it('parses JSON when asked, and says when it is not JSON', async () => {
    const { filesDir, read } = setup();
    writeFileSync(join(filesDir, 'data.json'), '{"items":[1,2],"ok":true}');
    const { output } = await read({ path: 'data.json', json: true });
    expect(output.content).toEqual({ items: [1, 2], ok: true });
    writeFileSync(join(filesDir, 'bad.json'), '{nope');
    const bad = read({ path: 'bad.json', json: true });
    await expect(bad).rejects.toBeInstanceOf(NonRetriableError);
    await expect(bad).rejects.toThrow(/file bad\.json is not valid JSON/);
    await expect(read({ path: 'data.json', json: true, encoding: 'base64' })).rejects.toThrow(
      /cannot be combined with encoding: base64/,
    );
  });

  it('says file not found for a missing file, even when the files folder does not exist yet', async () => {
    const { base, read } = setup();
    const missing = read({ path: 'nope.txt' });
    await expect(missing).rejects.toBeInstanceOf(NonRetriableError);
    await expect(missing).rejects.toThrow('file not found: nope.txt');
    const noFolder = callAction(fileRead, { path: 'x.txt' }, { env: { filesDir: join(base, 'not-yet') } });
    await expect(noFolder).rejects.toThrow('file not found: x.txt');
  });

  it('refuses files larger than the output limit instead of cutting them', async () => {
    const { filesDir, read } = setup(10);
    writeFileSync(join(filesDir, 'ten.txt'), '0123456789');
    expect((await read({ path: 'ten.txt' })).output.bytes).toBe(10);
    writeFileSync(join(filesDir, 'big.txt'), '0123456789A');
    const big = read({ path: 'big.txt' });
    await expect(big).rejects.toBeInstanceOf(NonRetriableError);
    await expect(big).rejects.toThrow('file big.txt is 11 bytes, more than the output limit of 10 bytes');
  });

  it('refuses folders and named pipes without hanging', async () => {
    const { filesDir, read } = setup();
    mkdirSync(join(filesDir, 'dir'));
    await expect(read({ path: 'dir' })).rejects.toThrow(
      /could not read dir: it is (a folder|not a regular file)/,
    );
    expect(spawnSync('mkfifo', [join(filesDir, 'pipe')]).status).toBe(0);
    await expect(read({ path: 'pipe' })).rejects.toThrow('could not read pipe: it is not a regular file');
  });

  it('reads through a symlink that stays inside the files folder', async () => {
    const { filesDir, read } = setup();
    writeFileSync(join(filesDir, 'real.txt'), 'inside');
    symlinkSync(join(filesDir, 'real.txt'), join(filesDir, 'alias.txt'));
    expect((await read({ path: 'alias.txt' })).output.content).toBe('inside');
  });

  it('refuses paths that break the rules, never reading outside', async () => {
    const { filesDir, outside, read } = setup();
    symlinkSync(join(outside, 'secret.txt'), join(filesDir, 'link-file'));
    symlinkSync(outside, join(filesDir, 'link-dir'));
    mkdirSync(join(filesDir, 'a'));
    const cases: [string, RegExp][] = [
      [join(outside, 'secret.txt'), /must be relative to the files folder, not absolute/],
      ['../outside/secret.txt', /must not contain a "\.\." segment/],
      ['a/../../outside/secret.txt', /must not contain a "\.\." segment/],
      ['a\0b', /contains a NUL byte/],
      ['', /is empty/],
      ['link-file', /leads outside the files folder through a symlink \(link-file\)/],
      ['link-dir/secret.txt', /leads outside the files folder through a symlink/],
    ];
    for (const [path, message] of cases) {
      const attempt = read({ path });
      await expect(attempt, path).rejects.toBeInstanceOf(NonRetriableError);
      await expect(attempt, path).rejects.toThrow(message);
    }
  });
});
