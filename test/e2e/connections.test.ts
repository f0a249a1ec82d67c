import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliProcess, runCli, startCli } from '../helpers/cli.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { freePort } from '../helpers/http-server.ts';
import { startOAuthFakes, writeProvidersFile } from '../helpers/oauth-fakes.ts';
import { waitFor } from '../helpers/wait-for.ts';

const CLIENT_SECRET = 'client-secret-e2e-5f3a9c';
const MASTER_KEY = 'e2e-master-key-for-connections';

/** A browser: its own cookies, redirects not followed (the test follows them, looking at each hop). */
function browser() {
  const jar = new Map<string, string>();
  return {
    async request(url: string, init: RequestInit = {}): Promise<Response> {
      const headers = new Headers(init.headers);
      if (jar.size > 0) headers.set('cookie', [...jar].map(([k, v]) => `${k}=${v}`).join('; '));
      const response = await fetch(url, { ...init, headers, redirect: 'manual' });
      for (const cookie of response.headers.getSetCookie()) {
        const [pair = ''] = cookie.split(';');
        const at = pair.indexOf('=');
        jar.set(pair.slice(0, at), pair.slice(at + 1));
      }
      return response;
    },
  };
}

function pgDump(url: string): string {
  const debian = '/usr/lib/postgresql/15/bin/pg_dump';
  return execFileSync(existsSync(debian) ? debian : 'pg_dump', [url], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
}

let database: TestDatabase;
let fakes: Awaited<ReturnType<typeof startOAuthFakes>>;
let serve: CliProcess | undefined;
let base: string;

beforeAll(async () => {
  database = await createTestDatabase();
  fakes = await startOAuthFakes({ clientId: 'baton-e2e', clientSecret: CLIENT_SECRET, expiresIn: 3600 });
});
afterAll(async () => {
  serve?.signal('SIGTERM');
  await serve?.done;
  await fakes?.close();
  await database?.drop();
});

describe('OAuth2 connections end to end', () => {
  it('connects, creates an issue, refreshes on expiry and after a 401, and keeps tokens out of the database', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'baton-connections-e2e-'));
    const workflows = join(dir, 'workflows');
    mkdirSync(workflows);
    writeFileSync(
      join(workflows, 'open-issue.yaml'),
      [
        'on: { manual: { inputs: { title: { type: string, required: true } } } }',
        'tasks:',
        '  open:',
        '    action: github.create_issue',
        '    inputs: { connection: gh, owner: octo, repo: hello, title: "${trigger.inputs.title}" }',
        '  comment:',
        '    depends_on: [open]',
        '    action: github.add_comment',
        '    inputs: { connection: gh, owner: octo, repo: hello, issue_number: "${tasks.open.output.number}", body: done }',
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(workflows, 'many.yaml'),
      [
        'tasks:',
        ...[1, 2, 3, 4].flatMap((n) => [
          `  who${n}:`,
          '    action: github.request',
          '    inputs: { connection: gh, path: /user }',
        ]),
        '',
      ].join('\n'),
    );
    const providers = writeProvidersFile(dir, fakes, { id: 'baton-e2e', secretName: 'GITHUB_CLIENT_SECRET' });
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const env = {
      DATABASE_URL: database.url,
      BATON_MASTER_KEY: MASTER_KEY,
      BATON_WORKFLOWS_DIR: workflows,
      BATON_DATA_DIR: dir,
      BATON_OAUTH_FILE: providers,
      BATON_PUBLIC_URL: base,
      PORT: String(port),
      BATON_LOG_LEVEL: 'warn',
    };
    // The client secret goes into the encrypted store, not the environment.
    const set = await runCli(['secrets', 'set', 'GITHUB_CLIENT_SECRET'], env, undefined, CLIENT_SECRET);
    expect(set.code).toBe(0);
    serve = startCli(['serve'], env);
    await waitFor(() => /Baton on/.test(serve?.stderr() ?? ''), { timeoutMs: 20_000 });

    const alice = browser();
    const connect = async (who = alice, name = 'gh') => {
      const res = await who.request(`${base}/connections/connect`, {
        method: 'POST',
        body: new URLSearchParams({ name, provider: 'github' }),
      });
      expect(res.status).toBe(303);
      return new URL(res.headers.get('location') ?? '');
    };
    /** The provider approves and answers with the redirect back to Baton. */
    const approve = async (authorize: URL) => {
      const res = await fetch(authorize, { redirect: 'manual' });
      expect(res.status).toBe(302);
      return new URL(res.headers.get('location') ?? '');
    };

    // Connect → provider → callback.
    const authorize = await connect();
    expect(authorize.origin).toBe(fakes.provider.url);
    expect(authorize.searchParams.get('redirect_uri')).toBe(`${base}/connections/callback`);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('scope')).toBe('repo');
    const callback = await approve(authorize);
    const done = await alice.request(callback.href);
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toBe('/connections?connected=gh');

    const page = await (await alice.request(`${base}/connections`)).text();
    expect(page).toContain('data-connection="gh"');
    expect(page).toContain('octo-test');
    expect(page).toContain('data-status="connected"');

    // The same callback again: the state was single-use.
    const reused = await alice.request(callback.href);
    expect(reused.status).toBe(401);
    expect(await reused.text()).toContain('already used');

    // A state started in another browser.
    const mallory = browser();
    const foreign = await approve(await connect(mallory, 'gh'));
    expect((await alice.request(foreign.href)).status).toBe(401);

    // A code issued for another PKCE challenge (the verifier Baton holds does not match).
    const tampered = await connect();
    tampered.searchParams.set('code_challenge', 'A'.repeat(43));
    const wrongPkce = await alice.request((await approve(tampered)).href);
    expect(wrongPkce.status).toBe(401);
    expect(fakes.stats.tokenErrors).toContain('invalid_grant: PKCE verification failed');

    // A code issued for a changed redirect URI: Baton sends its exact URI, the provider refuses.
    const redirected = await connect();
    redirected.searchParams.set('redirect_uri', `${base}/elsewhere/callback`);
    const stolen = await approve(redirected);
    const viaBaton = new URL(`${base}/connections/callback${stolen.search}`);
    expect((await alice.request(viaBaton.href)).status).toBe(401);
    expect(fakes.stats.tokenErrors).toContain('invalid_grant: redirect_uri mismatch');

    const startRun = async (workflow: string, inputs: object = {}) => {
      const res = await fetch(`${base}/api/workflows/${workflow}/runs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ inputs }),
      });
      expect(res.status).toBe(201);
      const { run } = (await res.json()) as { run: { id: string } };
      return waitFor(
        async () => {
          const r = (await (await fetch(`${base}/api/runs/${run.id}`)).json()) as {
            run: { status: string; error: unknown };
            tasks: unknown[];
          };
          return ['succeeded', 'failed'].includes(r.run.status) ? r : undefined;
        },
        { timeoutMs: 20_000 },
      );
    };

    // A workflow creates an issue and comments on it.
    const first = await startRun('open-issue', { title: 'First' });
    expect(first.run.status).toBe('succeeded');
    expect(fakes.issues.map((i) => i.title)).toEqual(['First']);
    expect(fakes.comments).toEqual([{ issue: 1, body: 'done' }]);

    // The provider revokes the token early: the call gets a 401, Baton refreshes once and retries.
    fakes.expireAccessTokens();
    const second = await startRun('open-issue', { title: 'After 401' });
    expect(second.run.status).toBe('succeeded');
    expect(fakes.stats.refreshes).toBe(1);
    expect(fakes.issues.at(-1)?.auth).not.toBe(fakes.issues[0]?.auth);

    // The token nears its expiry: refreshed before the call, once for four tasks calling at the same time.
    const { default: postgres } = await import('postgres');
    const sql = postgres(database.url, { max: 1, onnotice: () => {} });
    try {
      await sql`update connections set expires_at = now() + interval '10 seconds' where name = 'gh'`;
      fakes.expireAccessTokens();
      const many = await startRun('many');
      expect(many.run.status).toBe('succeeded');
      expect(fakes.stats.refreshes).toBe(2);

      // A refresh the provider refuses: the connection needs reconnecting, and the page says so.
      fakes.denyRefresh();
      fakes.expireAccessTokens();
      const failed = await startRun('open-issue', { title: 'Refused' });
      expect(failed.run.status).toBe('failed');
      expect(JSON.stringify(failed.run.error)).toContain('needs to be reconnected');
      const after = await (await alice.request(`${base}/connections`)).text();
      expect(after).toContain('data-status="needs_reconnect"');
      const api = (await (await fetch(`${base}/api/connections`)).json()) as {
        connections: { status: string }[];
      };
      expect(api.connections.map((c) => c.status)).toEqual(['needs_reconnect']);

      // Nothing secret in clear in the database: tokens, the client secret, the master key.
      const dump = pgDump(database.url);
      expect(dump).toContain('needs_reconnect');
      for (const value of [...fakes.issued, CLIENT_SECRET, MASTER_KEY]) {
        expect(dump).not.toContain(value);
        expect(dump).not.toContain(Buffer.from(value).toString('base64').replace(/=+$/, ''));
      }
      // Nor in what the API answers about runs.
      const runs = await (await fetch(`${base}/api/runs?limit=50`)).text();
      for (const value of fakes.issued) expect(runs).not.toContain(value);
    } finally {
      await sql.end();
    }

    // Disconnect.
    const gone = await alice.request(`${base}/connections/gh/disconnect`, { method: 'POST' });
    expect(gone.status).toBe(303);
    expect(await (await alice.request(`${base}/connections`)).text()).not.toContain('data-connection="gh"');
  }, 90_000);
});
