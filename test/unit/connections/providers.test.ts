import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProviders } from '../../../src/connections/providers.ts';
import { apiUrl } from '../../../src/connections/service.ts';

function file(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'baton-providers-')), 'providers.yaml');
  writeFileSync(path, text);
  return path;
}

describe('OAuth2 providers', () => {
  it('gives github the GitHub preset from env variables alone', () => {
    const providers = loadProviders({
      BATON_OAUTH_GITHUB_CLIENT_ID: 'Iv1.abc',
      BATON_OAUTH_GITHUB_CLIENT_SECRET: 'GITHUB_CLIENT_SECRET',
    });
    expect(providers.get('github')).toEqual({
      name: 'github',
      clientId: 'Iv1.abc',
      clientSecret: 'GITHUB_CLIENT_SECRET',
      authorizeUrl: 'https://github.com/login/oauth/authorize',
      tokenUrl: 'https://github.com/login/oauth/access_token',
      apiUrl: 'https://api.github.com',
      scopes: ['repo'],
      accountPath: '/user',
      accountField: 'login',
    });
  });

  it('reads a file; endpoints and scopes override the preset; env overrides the file', () => {
    const path = file(
      [
        'providers:',
        '  ghe:',
        '    preset: github',
        '    client_id: from-file',
        '    client_secret: GHE_SECRET',
        '    api_url: https://ghe.example.com/api/v3/',
        '    scopes: [repo, read:org]',
        '',
      ].join('\n'),
    );
    const ghe = loadProviders({ BATON_OAUTH_FILE: path, BATON_OAUTH_GHE_CLIENT_ID: 'from-env' }).get('ghe');
    expect(ghe).toMatchObject({
      clientId: 'from-env',
      apiUrl: 'https://ghe.example.com/api/v3',
      scopes: ['repo', 'read:org'],
      tokenUrl: 'https://github.com/login/oauth/access_token',
    });
  });

  it('names the problem: a secret value where a name belongs, missing endpoints, unknown keys', () => {
    expect(() =>
      loadProviders({ BATON_OAUTH_GITHUB_CLIENT_ID: 'x', BATON_OAUTH_GITHUB_CLIENT_SECRET: 'abc-123/xyz' }),
    ).toThrow(/client_secret: must name a secret/);
    expect(() =>
      loadProviders({ BATON_OAUTH_ACME_CLIENT_ID: 'x', BATON_OAUTH_ACME_CLIENT_SECRET: 'ACME_SECRET' }),
    ).toThrow(/provider "acme" needs authorize_url, token_url and api_url/);
    expect(() =>
      loadProviders({ BATON_OAUTH_FILE: file('providers:\n  github:\n    client_idd: x\n') }),
    ).toThrow(/BATON_OAUTH_FILE/);
    expect(() => loadProviders({ BATON_OAUTH_GITHUB_CLIENTID: 'x' })).toThrow(/not a provider setting/);
  });
});

describe('apiUrl', () => {
  const provider = loadProviders({
    BATON_OAUTH_GITHUB_CLIENT_ID: 'x',
    BATON_OAUTH_GITHUB_CLIENT_SECRET: 'S',
  }).get('github');

  it('resolves paths under the API and refuses other origins, so a token never leaves its API', () => {
    if (!provider) throw new Error('no provider');
    expect(apiUrl(provider, '/repos/a/b/issues').href).toBe('https://api.github.com/repos/a/b/issues');
    expect(apiUrl(provider, 'https://api.github.com/user').href).toBe('https://api.github.com/user');
    expect(() => apiUrl(provider, 'https://evil.example/steal')).toThrow(
      /is not the API of provider "github"/,
    );
    // A protocol-relative path stays a path on the API.
    expect(apiUrl(provider, '//evil.example/x').origin).toBe('https://api.github.com');
  });
});
