import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { json, startServer } from './http-server.ts';

/**
 * A local OAuth2 provider (authorization code + PKCE S256 + refresh) and a GitHub-like API that
 * accepts its access tokens, both real HTTP servers on 127.0.0.1. Strict where Baton must be
 * careful: the client secret, single-use codes bound to their redirect URI and PKCE challenge.
 */
export async function startOAuthFakes(options: {
  clientId: string;
  clientSecret: string;
  expiresIn: number;
}) {
  const codes = new Map<string, { redirectUri: string; challenge: string; scope: string; used: boolean }>();
  const access = new Map<string, { expired: boolean }>();
  const refresh = new Set<string>();
  /** Every token handed out, to look for in a database dump. */
  const issued: string[] = [];
  const stats = { refreshes: 0, tokenErrors: [] as string[] };
  const issues: { title: string; body?: string; auth: string }[] = [];
  const comments: { issue: number; body: string }[] = [];
  let refreshDenied = false;
  /** GitHub answers token errors with 200 and `{ error, error_description }`. */
  let errorStatus = 400;

  const newTokens = (scope: string) => {
    const accessToken = `gho_${randomBytes(12).toString('hex')}`;
    const refreshToken = `ghr_${randomBytes(12).toString('hex')}`;
    access.set(accessToken, { expired: false });
    refresh.add(refreshToken);
    issued.push(accessToken, refreshToken);
    return {
      access_token: accessToken,
      refresh_token: refreshToken,
      token_type: 'bearer',
      expires_in: options.expiresIn,
      scope,
    };
  };

  const provider = await startServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (req.method === 'GET' && url.pathname === '/login/oauth/authorize') {
      const q = url.searchParams;
      if (q.get('client_id') !== options.clientId || q.get('code_challenge_method') !== 'S256') {
        return json(res, 400, { error: 'invalid_request' });
      }
      const code = randomBytes(8).toString('hex');
      codes.set(code, {
        redirectUri: q.get('redirect_uri') ?? '',
        challenge: q.get('code_challenge') ?? '',
        scope: q.get('scope') ?? '',
        used: false,
      });
      // The user approves at once.
      const back = new URL(q.get('redirect_uri') ?? '');
      back.searchParams.set('code', code);
      back.searchParams.set('state', q.get('state') ?? '');
      res.writeHead(302, { location: back.href });
      res.end();
      return;
    }
    if (req.method === 'POST' && url.pathname === '/login/oauth/access_token') {
      const form = new URLSearchParams(req.body);
      const fail = (error: string) => {
        stats.tokenErrors.push(error);
        return json(res, errorStatus, { error, error_description: 'refused by the test provider' });
      };
      if (form.get('client_id') !== options.clientId || form.get('client_secret') !== options.clientSecret) {
        return fail('invalid_client');
      }
      if (form.get('grant_type') === 'authorization_code') {
        const grant = codes.get(form.get('code') ?? '');
        if (!grant || grant.used) return fail('invalid_grant: unknown or used code');
        grant.used = true;
        if (grant.redirectUri !== form.get('redirect_uri'))
          return fail('invalid_grant: redirect_uri mismatch');
        const challenge = createHash('sha256')
          .update(form.get('code_verifier') ?? '')
          .digest('base64url');
        if (challenge !== grant.challenge) return fail('invalid_grant: PKCE verification failed');
        return json(res, 200, newTokens(grant.scope));
      }
      if (form.get('grant_type') === 'refresh_token') {
        const token = form.get('refresh_token') ?? '';
        if (refreshDenied || !refresh.has(token)) return fail('invalid_grant: bad refresh token');
        refresh.delete(token); // rotated
        stats.refreshes += 1;
        return json(res, 200, newTokens('repo'));
      }
      return fail('unsupported_grant_type');
    }
    return json(res, 404, { message: 'Not Found' });
  });

  const api = await startServer((req, res) => {
    const token = /^Bearer (\S+)$/.exec(String(req.headers.authorization ?? ''))?.[1] ?? '';
    const state = access.get(token);
    if (!state || state.expired) return json(res, 401, { message: 'Bad credentials' });
    const url = new URL(req.url, 'http://x');
    if (req.method === 'GET' && url.pathname === '/user')
      return json(res, 200, { login: 'octo-test', id: 1 });
    const issue = /^\/repos\/([^/]+)\/([^/]+)\/issues$/.exec(url.pathname);
    if (req.method === 'POST' && issue) {
      const body = JSON.parse(req.body) as { title: string; body?: string };
      issues.push({ ...body, auth: token });
      const number = issues.length;
      return json(res, 201, {
        id: 1000 + number,
        number,
        url: `${api.url}/repos/${issue[1]}/${issue[2]}/issues/${number}`,
        html_url: `https://github.test/${issue[1]}/${issue[2]}/issues/${number}`,
      });
    }
    const comment = /^\/repos\/[^/]+\/[^/]+\/issues\/(\d+)\/comments$/.exec(url.pathname);
    if (req.method === 'POST' && comment) {
      comments.push({ issue: Number(comment[1]), body: (JSON.parse(req.body) as { body: string }).body });
      return json(res, 201, {
        id: 5000 + comments.length,
        url: `${api.url}/c`,
        html_url: 'https://github.test/c',
      });
    }
    return json(res, 404, { message: 'Not Found' });
  });

  return {
    provider,
    api,
    issued,
    stats,
    issues,
    comments,
    /** The API refuses every access token handed out so far (as if they had expired early). */
    expireAccessTokens() {
      for (const state of access.values()) state.expired = true;
    },
    denyRefresh(deny = true) {
      refreshDenied = deny;
    },
    githubStyleErrors(on = true) {
      errorStatus = on ? 200 : 400;
    },
    async close() {
      await provider.close();
      await api.close();
    },
  };
}

/** Writes a BATON_OAUTH_FILE naming the fakes as provider `github`; returns its path. */
export function writeProvidersFile(
  dir: string,
  fakes: { provider: { url: string }; api: { url: string } },
  client: { id: string; secretName: string },
): string {
  const file = join(dir, 'providers.yaml');
  writeFileSync(
    file,
    [
      'providers:',
      '  github:',
      `    client_id: ${client.id}`,
      `    client_secret: ${client.secretName}`,
      `    authorize_url: ${fakes.provider.url}/login/oauth/authorize`,
      `    token_url: ${fakes.provider.url}/login/oauth/access_token`,
      `    api_url: ${fakes.api.url}`,
      '',
    ].join('\n'),
  );
  return file;
}
