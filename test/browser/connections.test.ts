import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliProcess } from '../helpers/cli.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { freePort } from '../helpers/http-server.ts';
import { startOAuthFakes, writeProvidersFile } from '../helpers/oauth-fakes.ts';
import { launchChromium, screenshot, startServeFor, stopAll } from './browser.ts';

/** Connect and Disconnect in a real browser, logged in with a token, against a local OAuth provider. */

const TOKEN = 'browser-connections-token-0123456789';
const SLOW = 30_000;

let database: TestDatabase;
let fakes: Awaited<ReturnType<typeof startOAuthFakes>>;
let serve: CliProcess;
let browser: Browser;
let context: BrowserContext;
let dir: string;

beforeAll(async () => {
  browser = await launchChromium();
  database = await createTestDatabase();
  fakes = await startOAuthFakes({
    clientId: 'baton-browser',
    clientSecret: 'browser-client-secret',
    expiresIn: 3600,
  });
  dir = mkdtempSync(join(tmpdir(), 'baton-browser-connections-'));
  mkdirSync(join(dir, 'workflows'));
  const providers = writeProvidersFile(dir, fakes, { id: 'baton-browser', secretName: 'GH_CLIENT_SECRET' });
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  ({ serve, context } = await startServeFor(
    browser,
    {
      DATABASE_URL: database.url,
      BATON_WORKFLOWS_DIR: join(dir, 'workflows'),
      BATON_DATA_DIR: dir,
      BATON_API_TOKENS: TOKEN,
      BATON_MASTER_KEY: 'browser-connections-master-key',
      BATON_SECRET_GH_CLIENT_SECRET: 'browser-client-secret',
      BATON_OAUTH_FILE: providers,
      BATON_PUBLIC_URL: base,
      HOST: '127.0.0.1',
      PORT: String(port),
      BATON_LOG_LEVEL: 'warn',
    },
    SLOW,
  ));
}, 60_000);

afterAll(async () => {
  await stopAll({ context, browser, serve });
  await fakes?.close();
  await database?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('Connections page in Chromium', () => {
  it('connects through the provider and back, shows the account, and disconnects', async () => {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto('/connections');
    await page.waitForURL(/\/login/);
    await page.fill('#token', TOKEN);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Connections' }).waitFor();

    await page.fill('input[name="name"]', 'work-github');
    await page.getByRole('button', { name: 'Connect' }).click();
    // The provider approves at once and sends the browser back to the callback.
    await page.waitForURL(/\/connections\?connected=work-github$/);
    const row = page.locator('tr[data-connection="work-github"]');
    await expect(row.innerText()).resolves.toContain('octo-test');
    await expect(row.innerText()).resolves.toContain('repo');
    await expect(row.locator('[data-status]').getAttribute('data-status')).resolves.toBe('connected');
    await screenshot(page, 'connections');

    await row.getByRole('button', { name: 'Disconnect' }).click();
    await page.waitForURL(/\/connections$/);
    await expect(page.locator('tr[data-connection="work-github"]').count()).resolves.toBe(0);
    await page.close();
    expect(errors).toEqual([]);
  });
});
