import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Provider } from '../../src/connections/providers.ts';
import { Connections } from '../../src/connections/service.ts';
import { secretSource } from '../../src/secrets/source.ts';
import { SecretVault } from '../../src/secrets/vault.ts';
import { openStore, type Store } from '../../src/store/db.ts';
import { startOAuthFakes } from '../helpers/oauth-fakes.ts';

/**
 * The connection service on the embedded database (one transaction at a time): connect, then
 * concurrent calls on an expired token share one refresh, without waiting on themselves.
 */
let dir: string;
let store: Store;
let fakes: Awaited<ReturnType<typeof startOAuthFakes>>;
let connections: Connections;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'baton-connections-pglite-'));
  store = openStore({ dataDir: dir });
  await store.migrate();
  fakes = await startOAuthFakes({ clientId: 'pglite-client', clientSecret: 'pglite-secret', expiresIn: 30 });
  const vault = new SecretVault(store.db, 'pglite-master-key');
  await vault.set('CLIENT_SECRET', 'pglite-secret');
  const provider: Provider = {
    name: 'github',
    clientId: 'pglite-client',
    clientSecret: 'CLIENT_SECRET',
    authorizeUrl: `${fakes.provider.url}/login/oauth/authorize`,
    tokenUrl: `${fakes.provider.url}/login/oauth/access_token`,
    apiUrl: fakes.api.url,
    scopes: ['repo'],
    accountPath: '/user',
    accountField: 'login',
  };
  connections = new Connections({
    db: store.db,
    vault,
    secrets: secretSource(vault, () => ({})),
    providers: new Map([['github', provider]]),
    publicUrl: 'http://127.0.0.1:9',
    // Tokens live 30s: every call finds them near expiry.
    refreshMarginMs: 60_000,
  });
}, 60_000);

afterAll(async () => {
  await fakes?.close();
  await store?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('connections on PGlite', () => {
  it('connects, then eight concurrent calls near expiry cause one refresh and all succeed', async () => {
    const authorize = await connections.begin('gh', 'github', 'browser-1');
    const answer = await fetch(authorize, { redirect: 'manual' });
    const callback = new URL(answer.headers.get('location') ?? '');
    await expect(connections.complete(callback, 'browser-2')).rejects.toThrow(/another browser/);
    const info = await connections.complete(callback, 'browser-1');
    expect(info).toMatchObject({ name: 'gh', account: 'octo-test', scopes: 'repo', status: 'connected' });
    await expect(connections.complete(callback, 'browser-1')).rejects.toThrow(/already used/);

    const before = fakes.stats.refreshes;
    const responses = await Promise.all(Array.from({ length: 8 }, () => connections.fetch('gh', '/user')));
    expect(responses.map((r) => r.status)).toEqual(Array(8).fill(200));
    expect(fakes.stats.refreshes).toBe(before + 1);
  });

  it('a refused refresh (GitHub style: 200 with an error) marks the connection as needing reconnection', async () => {
    fakes.denyRefresh();
    fakes.githubStyleErrors();
    await expect(connections.fetch('gh', '/user')).rejects.toThrow(/needs to be reconnected/);
    const [row] = await connections.list();
    expect(row?.status).toBe('needs_reconnect');
    expect(row?.lastError).toBe(
      'refresh failed: invalid_grant: bad refresh token (refused by the test provider)',
    );
    await expect(connections.fetch('gh', '/user')).rejects.toThrow(/needs to be reconnected/);
    fakes.denyRefresh(false);
  });
});
