import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import type { ApiDeps } from '../../src/api/deps.ts';
import { errorHandler } from '../../src/api/errors.ts';
import { webhookRoutes } from '../../src/api/hooks.ts';
import { loadConfig } from '../../src/config.ts';
import { GitSync } from '../../src/git/sync.ts';
import { Registry } from '../../src/registry/registry.ts';
import { signGithub } from '../../src/triggers/webhook-sign.ts';
import { sayFlow as flow, git } from '../helpers/git.ts';
import { waitFor } from '../helpers/wait-for.ts';

const said = (text: string) => /message: "(\w+)"/.exec(text)?.[1];

const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

/** A bare remote over file:// and a working clone that commits and pushes to it. */
function makeRemote() {
  const root = mkdtempSync(join(tmpdir(), 'baton-git-'));
  roots.push(root);
  const bare = join(root, 'remote.git');
  const work = join(root, 'work');
  git(root, 'init', '--quiet', '--bare', '--initial-branch=main', bare);
  git(root, 'init', '--quiet', '--initial-branch=main', work);
  git(work, 'remote', 'add', 'origin', `file://${bare}`);
  const commit = (files: Record<string, string | null>, message = 'change') => {
    for (const [rel, text] of Object.entries(files)) {
      if (text === null) git(work, 'rm', '--quiet', rel);
      else {
        mkdirSync(join(work, rel, '..'), { recursive: true });
        writeFileSync(join(work, rel), text);
        git(work, 'add', rel);
      }
    }
    git(work, 'commit', '--quiet', '-m', message);
    return git(work, 'rev-parse', 'HEAD');
  };
  return {
    root,
    url: `file://${bare}`,
    work,
    commit,
    push: (...extra: string[]) => git(work, 'push', '--quiet', ...extra, 'origin', 'main'),
  };
}

async function open(remote: ReturnType<typeof makeRemote>) {
  const dir = join(remote.root, 'data', 'git');
  const versions: { name: string; message: unknown; commit: string | null }[] = [];
  /** The commit a reload would record while git rewrites the folder (read when a force-push is logged). */
  const duringMove: (string | null)[] = [];
  let registry: Registry | undefined;
  const sync: GitSync = new GitSync({
    remote: remote.url,
    branch: 'main',
    dir,
    log: (_level, message) => {
      if (message.includes('force-pushed')) duringMove.push(sync.commit());
    },
    onCommit: async () => {
      await registry?.refresh();
    },
  });
  await sync.tick();
  mkdirSync(join(dir, 'workflows'), { recursive: true });
  mkdirSync(join(dir, 'actions'), { recursive: true });
  registry = await Registry.open({
    workflowsDir: join(dir, 'workflows'),
    actionsDirs: [join(dir, 'actions')],
    watch: false,
    onVersion: (w) => {
      versions.push({ name: w.name, message: said(w.source.text), commit: sync.commit() });
    },
  });
  return { sync, registry, versions, duringMove };
}

describe('git sync', () => {
  it('clones, fast-forwards, keeps the last good version on an invalid commit, and follows a force-push', async () => {
    const remote = makeRemote();
    const first = remote.commit({ 'workflows/hello.yaml': flow('one') });
    remote.push('-u');
    const { sync, registry, versions, duringMove } = await open(remote);
    try {
      expect(sync.status()).toMatchObject({ commit: first, error: null });
      expect(versions).toEqual([{ name: 'hello', message: 'one', commit: first }]);

      const second = remote.commit({ 'workflows/hello.yaml': flow('two') });
      remote.push();
      expect(await sync.tick()).toMatchObject({ commit: second, error: null });
      expect(versions.at(-1)).toEqual({ name: 'hello', message: 'two', commit: second });

      const broken = remote.commit({ 'workflows/hello.yaml': 'tasks: [nope' });
      remote.push();
      expect(await sync.tick()).toMatchObject({ commit: broken, error: null });
      expect(said(registry.workflows().get('hello')?.source.text ?? '')).toBe('two');
      expect(registry.entries().find((e) => e.name === 'hello')?.problems.length).toBeGreaterThan(0);
      expect(versions).toHaveLength(2);

      // An unrelated history, force-pushed.
      git(remote.work, 'checkout', '--quiet', '--orphan', 'other');
      git(remote.work, 'rm', '-r', '--quiet', '--cached', '.');
      rmSync(join(remote.work, 'workflows'), { recursive: true });
      const forced = remote.commit({ 'workflows/hello.yaml': flow('three') });
      git(remote.work, 'push', '--quiet', '--force', 'origin', 'other:main');
      expect(await sync.tick()).toMatchObject({ commit: forced, error: null });
      expect(versions.at(-1)).toEqual({ name: 'hello', message: 'three', commit: forced });
      // While git was rewriting the folder, a reload would already have recorded the new commit.
      expect(duringMove).toEqual([forced]);
    } finally {
      await registry.stop();
      await sync.stop();
    }
  });

  it('shows an unreachable remote as an error status without throwing', async () => {
    const root = mkdtempSync(join(tmpdir(), 'baton-git-'));
    roots.push(root);
    const sync = new GitSync({
      remote: `file://${join(root, 'missing.git')}`,
      branch: 'main',
      dir: join(root, 'git'),
    });
    const status = await sync.tick();
    expect(status.commit).toBeNull();
    expect(status.error).toMatch(/git fetch failed/);
    expect(status.last_sync_at).not.toBeNull();
  });
});

describe('the git push webhook', () => {
  it('syncs now on a signed push and refuses a bad signature', async () => {
    const remote = makeRemote();
    remote.commit({ 'workflows/hello.yaml': flow('one') });
    remote.push('-u');
    const sync = new GitSync({ remote: remote.url, branch: 'main', dir: join(remote.root, 'git') });
    await sync.tick();
    const config = loadConfig({ BATON_GIT_REMOTE: remote.url, BATON_GIT_WEBHOOK_SECRET: 'hook' });
    const app = new Hono();
    app.onError(errorHandler);
    app.route('/', webhookRoutes({ config, gitSync: sync } as unknown as ApiDeps));
    const second = remote.commit({ 'workflows/hello.yaml': flow('two') });
    remote.push();
    const body = '{"ref":"refs/heads/main"}';
    const send = (secret: string) =>
      app.request('/hooks/_git', { method: 'POST', headers: signGithub(secret, body), body });
    expect((await send('wrong')).status).toBe(401);
    expect(sync.commit()).not.toBe(second);
    // A ping, another event or a push to another branch is answered without a sync.
    const other = (event: string, payload: string) =>
      app.request('/hooks/_git', {
        method: 'POST',
        headers: { ...signGithub('hook', payload), 'x-github-event': event },
        body: payload,
      });
    const ping = await other('ping', '{"zen":"hi"}');
    expect(ping.status).toBe(200);
    expect(await ping.json()).toMatchObject({ sync: 'ignored' });
    expect((await other('issues', body)).status).toBe(200);
    const elsewhere = await other('push', '{"ref":"refs/heads/feature"}');
    expect(await elsewhere.json()).toMatchObject({
      sync: 'ignored',
      reason: expect.stringMatching(/feature/),
    });
    expect(sync.commit()).not.toBe(second);
    expect((await other('push', body)).status).toBe(202);
    await waitFor(() => sync.commit() === second);
    await sync.stop();
  });
});
