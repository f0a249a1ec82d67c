import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { signGithub } from '../../src/triggers/webhook-sign.ts';
import { scratchEnv, startCli } from '../helpers/cli.ts';
import { sayFlow as flow, git } from '../helpers/git.ts';
import { waitFor } from '../helpers/wait-for.ts';

const SECRET = 'git-hook-secret';

interface Listing {
  workflows: { name: string; valid: boolean; version: string | null }[];
  git?: { commit: string | null; error: string | null; branch: string };
}

describe('baton serve with git sync', () => {
  it('serves a remote branch, follows pushes by interval and webhook, and records the commit per version and run', async () => {
    const root = mkdtempSync(join(tmpdir(), 'baton-git-e2e-'));
    const bare = join(root, 'remote.git');
    const work = join(root, 'work');
    git(root, 'init', '--quiet', '--bare', '--initial-branch=main', bare);
    git(root, 'init', '--quiet', '--initial-branch=main', work);
    git(work, 'remote', 'add', 'origin', `file://${bare}`);
    const commit = (text: string) => {
      mkdirSync(join(work, 'workflows'), { recursive: true });
      writeFileSync(join(work, 'workflows', 'hello.yaml'), text);
      git(work, 'add', '.');
      git(work, 'commit', '--quiet', '-m', 'change');
      git(work, 'push', '--quiet', 'origin', 'main');
      return git(work, 'rev-parse', 'HEAD');
    };
    const first = commit(flow('one'));

    const serve = startCli(
      ['serve'],
      scratchEnv({
        PORT: '0',
        BATON_LOG_LEVEL: 'warn',
        BATON_GIT_REMOTE: `file://${bare}`,
        BATON_GIT_BRANCH: 'main',
        BATON_GIT_INTERVAL: '300ms',
        BATON_GIT_WEBHOOK_SECRET: SECRET,
        BATON_GIT_COMMIT_URL: 'https://git.example/c/{sha}',
      }),
    );
    try {
      const url = await waitFor(() => /Baton on (http:\/\/\S+)/.exec(serve.stderr())?.[1], {
        timeoutMs: 30_000,
      });
      const list = async () => (await (await fetch(`${url}/api/workflows`)).json()) as Listing;
      const versionCommit = async (id: string) => {
        const run = (await (await fetch(`${url}/api/runs/${id}`)).json()) as { run: { version_id: string } };
        const detail = (await (await fetch(`${url}/api/workflows/hello`)).json()) as {
          versions: { id: string; git_commit: string | null }[];
        };
        return detail.versions.find((v) => v.id === run.run.version_id)?.git_commit;
      };
      const start = async () => {
        const res = await fetch(`${url}/api/workflows/hello/runs`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{}',
        });
        expect(res.status).toBe(201);
        return ((await res.json()) as { run: { id: string } }).run.id;
      };

      expect((await list()).git).toMatchObject({ commit: first, error: null, branch: 'main' });
      expect(await versionCommit(await start())).toBe(first);

      // A push, picked up by the interval.
      const second = commit(flow('two'));
      await waitFor(async () => (await list()).git?.commit === second, { timeoutMs: 20_000 });
      await waitFor(async () => (await versionCommit(await start())) === second, { timeoutMs: 20_000 });

      // An invalid commit: the problem shows, the last good version still serves.
      const broken = commit('tasks: [nope');
      await waitFor(
        async () => {
          const l = await list();
          return l.git?.commit === broken && l.workflows.some((w) => w.name === 'hello' && !w.valid);
        },
        { timeoutMs: 20_000 },
      );
      expect((await list()).git?.error).toBeNull();
      const page = await (await fetch(`${url}/`)).text();
      expect(page).toContain('https://git.example/c/');

      // The push webhook: a bad signature is refused, a good one is accepted.
      const body = '{"ref":"refs/heads/main"}';
      const hook = (secret: string) =>
        fetch(`${url}/hooks/_git`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-github-event': 'push',
            ...signGithub(secret, body),
          },
          body,
        });
      expect((await hook('wrong')).status).toBe(401);
      expect((await hook(SECRET)).status).toBe(202);
    } finally {
      serve.signal('SIGTERM');
      await serve.done;
      rmSync(root, { recursive: true, force: true });
    }
  }, 90_000);
});
