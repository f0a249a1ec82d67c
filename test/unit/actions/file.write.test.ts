import { mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import fileWrite from '../../../actions/file.write.ts';
import { NonRetriableError } from '../../../src/errors.ts';
import { callAction } from '../../helpers/action-context.ts';

/** A files folder next to an `outside` folder holding a secret that must never change. */
function setup() {
  const base = mkdtempSync(join(tmpdir(), 'baton-write-'));
  const filesDir = join(base, 'files');
  const outside = join(base, 'outside');
  mkdirSync(filesDir);
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret.txt'), 'original');
  const write = (input: Record<string, unknown>) => callAction(fileWrite, input, { env: { filesDir } });
  const outsideState = () => ({
    files: readdirSync(outside).sort(),
    secret: readFileSync(join(outside, 'secret.txt'), 'utf8'),
  });
  return { base, filesDir, outside, write, outsideState };
}

describe('file.write action', () => {
  it('writes text and reports the bytes written', async () => {
    const { filesDir, write } = setup();
    const { output } = await write({ path: 'hello.txt', content: 'héllo' });
    expect(output).toEqual({ path: 'hello.txt', bytes: 6 });
    expect(readFileSync(join(filesDir, 'hello.txt'), 'utf8')).toBe('héllo');
    await write({ path: 'hello.txt', content: 'replaced' });
    expect(readFileSync(join(filesDir, 'hello.txt'), 'utf8')).toBe('replaced');
  });

  it('writes other JSON values as indented JSON text', async () => {
    const { filesDir, write } = setup();
    const value = { issue: 42, labels: ['bug'], closed: false, owner: null };
    const { output } = await write({ path: 'issue.json', content: value });
    const text = readFileSync(join(filesDir, 'issue.json'), 'utf8');
    expect(text).toBe(`${JSON.stringify(value, null, 2)}\n`);
    expect(output.bytes).toBe(Buffer.byteLength(text));
  });

  it('appends text, and JSON values as one line each', async () => {
    const { filesDir, write } = setup();
    await write({ path: 'log.txt', content: 'a\n', append: true });
    await write({ path: 'log.txt', content: 'b\n', append: true });
    expect(readFileSync(join(filesDir, 'log.txt'), 'utf8')).toBe('a\nb\n');
    await write({ path: 'events.jsonl', content: { n: 1 }, append: true });
    const { output } = await write({ path: 'events.jsonl', content: { n: 2 }, append: true });
    expect(readFileSync(join(filesDir, 'events.jsonl'), 'utf8')).toBe('{"n":1}\n{"n":2}\n');
    expect(output.bytes).toBe(8);
  });

  it('creates nested folders, and the files folder itself, unless mkdir is false', async () => {
    const { base, filesDir, write } = setup();
    const { output } = await write({ path: 'a//b/./c/d.txt', content: 'deep' });
    expect(output.path).toBe('a/b/c/d.txt');
    expect(readFileSync(join(filesDir, 'a/b/c/d.txt'), 'utf8')).toBe('deep');

    const fresh = join(base, 'not-yet');
    await callAction(fileWrite, { path: 'x.txt', content: 'x' }, { env: { filesDir: fresh } });
    expect(readFileSync(join(fresh, 'x.txt'), 'utf8')).toBe('x');

    const refused = write({ path: 'missing/dir/x.txt', content: 'x', mkdir: false });
    await expect(refused).rejects.toBeInstanceOf(NonRetriableError);
    await expect(refused).rejects.toThrow('could not write missing/dir/x.txt: its folder does not exist');
  });

  it('refuses to write over a folder', async () => {
    const { filesDir, write } = setup();
    mkdirSync(join(filesDir, 'dir'));
    await expect(write({ path: 'dir', content: 'x' })).rejects.toThrow('could not write dir: it is a folder');
  });

  it('writes through a symlink that stays inside the files folder', async () => {
    const { filesDir, write } = setup();
    mkdirSync(join(filesDir, 'real'));
    symlinkSync(join(filesDir, 'real'), join(filesDir, 'alias'));
    await write({ path: 'alias/x.txt', content: 'via link' });
    expect(readFileSync(join(filesDir, 'real/x.txt'), 'utf8')).toBe('via link');
  });

  it('works when the files folder itself is reached through a symlink', async () => {
    const { base, filesDir } = setup();
    const linked = join(base, 'files-link');
    symlinkSync(filesDir, linked);
    await callAction(fileWrite, { path: 'x.txt', content: 'ok' }, { env: { filesDir: linked } });
    expect(readFileSync(join(filesDir, 'x.txt'), 'utf8')).toBe('ok');
  });

  it('refuses paths that break the rules and writes nothing outside', async () => {
    const { filesDir, outside, write, outsideState } = setup();
    symlinkSync(join(outside, 'secret.txt'), join(filesDir, 'link-file'));
    symlinkSync(outside, join(filesDir, 'link-dir'));
    symlinkSync(join(outside, 'ghost.txt'), join(filesDir, 'dangling'));
    mkdirSync(join(filesDir, 'a'));
    const before = outsideState();
    const cases: [string, RegExp][] = [
      [join(outside, 'secret.txt'), /must be relative to the files folder, not absolute/],
      ['../outside/secret.txt', /must not contain a "\.\." segment/],
      ['a/../../outside/secret.txt', /must not contain a "\.\." segment/],
      ['a\0b', /contains a NUL byte/],
      ['', /is empty/],
      ['.', /names the files folder itself/],
      ['link-file', /leads outside the files folder through a symlink \(link-file\)/],
      ['link-dir/secret.txt', /leads outside the files folder through a symlink \(link-dir\/secret\.txt\)/],
      ['link-dir/new.txt', /leads outside the files folder through a symlink \(link-dir\)/],
      ['link-dir/sub/new.txt', /leads outside the files folder through a symlink \(link-dir\)/],
      ['dangling', /dangling is a symlink whose target does not exist/],
    ];
    for (const [path, message] of cases) {
      for (const append of [false, true]) {
        const attempt = write({ path, content: 'pwned', append });
        await expect(attempt, path).rejects.toBeInstanceOf(NonRetriableError);
        await expect(attempt, path).rejects.toThrow(message);
      }
    }
    expect(outsideState()).toEqual(before);
  });
});
