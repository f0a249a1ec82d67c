import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliProcess } from '../helpers/cli.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { launchChromium, screenshot, startServeFor, stopAll } from './browser.ts';

/**
 * The pages in a real browser against a real `baton serve` (Postgres, in-process workers, API
 * tokens on, so every click goes through the login cookie and its CSRF checks). Every wait polls a
 * condition in the page; each test saves a screenshot under test-output/screenshots/.
 */

const TOKEN = 'browser-test-token-0123456789';
const FIXTURES = join(import.meta.dirname, 'fixtures', 'workflows');
/** Long enough for a loaded 2-core machine; every wait returns as soon as its condition holds. */
const SLOW = 30_000;

let database: TestDatabase;
let serve: CliProcess;
let browser: Browser;
let context: BrowserContext;
let base: string;
let dir: string;
let marker: string;

beforeAll(async () => {
  browser = await launchChromium();
  database = await createTestDatabase();
  dir = mkdtempSync(join(tmpdir(), 'baton-browser-'));
  cpSync(FIXTURES, join(dir, 'workflows'), { recursive: true });
  marker = join(dir, 'flaky-marker');
  ({ serve, context, base } = await startServeFor(
    browser,
    {
      DATABASE_URL: database.url,
      BATON_WORKFLOWS_DIR: join(dir, 'workflows'),
      BATON_DATA_DIR: dir,
      BATON_API_TOKENS: TOKEN,
      HOST: '127.0.0.1',
      PORT: '0',
      BATON_LOG_LEVEL: 'warn',
      FLAKY_MARKER: marker,
    },
    SLOW,
  ));
}, 60_000);

afterAll(async () => {
  await stopAll({ context, browser, serve });
  await database?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Script errors and console errors (a CSP violation shows there) of each open page. */
const problems = new WeakMap<Page, string[]>();

async function newPage(): Promise<Page> {
  const page = await context.newPage();
  const seen: string[] = [];
  problems.set(page, seen);
  page.on('pageerror', (err) => seen.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') seen.push(`console: ${msg.text()}`);
  });
  return page;
}

/** Closes the page; whatever the test checked, a script or CSP error on it is a failure. */
async function done(page: Page): Promise<void> {
  await page.close();
  expect(problems.get(page) ?? []).toEqual([]);
}

/** Starts a run of `workflow` from its page's form and waits for the run page it leads to. */
async function runFromForm(
  page: Page,
  workflow: string,
  fill: Record<string, string> = {},
  check: string[] = [],
): Promise<string> {
  await page.goto(`/workflows/${workflow}`);
  for (const [name, value] of Object.entries(fill)) await page.fill(`[name="input.${name}"]`, value);
  for (const name of check) await page.check(`[name="input.${name}"]`);
  await page.getByRole('button', { name: `Run ${workflow}` }).click();
  await page.waitForURL(/\/runs\/[0-9a-f-]{36}$/);
  return page.url().split('/').pop() as string;
}

const liveStatus = (page: Page, status: string) =>
  page.locator(`#run-live[data-status="${status}"]`).waitFor({ timeout: SLOW });

describe('pages in Chromium', () => {
  it('logs in with a token and shows the overview: workflows, problems with file:line, schedules', async () => {
    const page = await newPage();
    await page.goto('/');
    await page.waitForURL(/\/login/);
    await page.fill('#token', TOKEN);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Workflows' }).waitFor();
    await expect(page.locator('tr[data-workflow="broken"] .problems').innerText()).resolves.toContain(
      'broken.yaml:6:18',
    );
    await expect(page.locator('tr[data-workflow="nightly"]').innerText()).resolves.toContain('0 3 * * *');
    await screenshot(page, 'overview');
    await done(page);
  });

  it("pauses a workflow's schedules from its page and resumes them, without a reload", async () => {
    const page = await newPage();
    await page.goto('/workflows/nightly');
    const schedules = page.locator('#schedules');
    await page.locator('#schedules[data-paused="false"] tr[data-entry] time').first().waitFor();
    await expect(schedules.locator('tr[data-entry] .next-times li').count()).resolves.toBe(3);
    await page.evaluate('window.notReloaded = true');
    await page.getByRole('button', { name: 'Pause schedules' }).click();
    await page.locator('#schedules[data-paused="true"]').waitFor();
    await expect(schedules.locator('.with-state').innerText()).resolves.toContain('paused');
    await expect(schedules.innerText()).resolves.toContain('none while paused');
    await screenshot(page, 'workflow-schedules-paused');
    await page.getByRole('button', { name: 'Resume schedules' }).click();
    await page.locator('#schedules[data-paused="false"] tr[data-entry] time').first().waitFor();
    await expect(schedules.locator('.with-state').innerText()).resolves.toContain('active');
    expect(await page.evaluate('window.notReloaded')).toBe(true);
    await done(page);
  });

  it('triggers a workflow from its form and watches the run go from running to succeeded without a reload', async () => {
    const page = await newPage();
    await runFromForm(page, 'greet', { who: 'Ada', times: '3' }, ['loud']);
    await liveStatus(page, 'running');
    // A flag on this document: a reload would lose it.
    await page.evaluate('window.notReloaded = true');
    await liveStatus(page, 'succeeded');
    expect(await page.evaluate('window.notReloaded')).toBe(true);
    // The finished fragment carries no trigger: polling has stopped.
    expect(await page.locator('#run-live').getAttribute('hx-trigger')).toBeNull();
    await expect(page.locator('.dag-node.st-succeeded').count()).resolves.toBe(4);
    await page.locator('#task-hello summary').click();
    await page.locator('#task-hello .log').getByText('hello Ada (3)').waitFor();
    await screenshot(page, 'run-succeeded');
    await done(page);
  });

  it("opens a failed task's error", async () => {
    const page = await newPage();
    await runFromForm(page, 'fails');
    await liveStatus(page, 'failed');
    const deploy = page.locator('#task-deploy');
    await expect(deploy.getAttribute('data-status')).resolves.toBe('failed');
    // The failed node of the graph leads to the task, opened.
    await page.locator('#run-dag .dag-node[data-task="deploy"]').click();
    await deploy.locator('.error-message').getByText('permission denied for deploy bot').waitFor();
    expect(await deploy.getAttribute('open')).not.toBeNull();
    await expect(page.locator('#task-notify').getAttribute('data-status')).resolves.toBe('skipped');
    await screenshot(page, 'run-failed');
    await done(page);
  });

  it('cancels a long run', async () => {
    const page = await newPage();
    await runFromForm(page, 'long');
    await liveStatus(page, 'running');
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Cancel' }).click();
    await liveStatus(page, 'cancelled');
    await page.locator('[data-command="retry"]').waitFor();
    await screenshot(page, 'run-cancelled');
    await done(page);
  });

  it('retries from failed: the succeeded task is reused and the run succeeds', async () => {
    const page = await newPage();
    const first = await runFromForm(page, 'flaky');
    await liveStatus(page, 'failed');
    writeFileSync(marker, 'now it works');
    await page.getByRole('button', { name: 'Retry from failed' }).click();
    await page.waitForURL(
      (url) => /\/runs\/[0-9a-f-]{36}$/.test(url.pathname) && !url.pathname.endsWith(first),
    );
    await liveStatus(page, 'succeeded');
    await page.locator('#task-fetch summary').click();
    await page.locator('#task-fetch').getByText(`reused from run ${first}`).waitFor();
    await page.getByRole('link', { name: first.slice(-8) }).waitFor();
    await expect(page.locator('.tl-row[data-task="fetch"]').count()).resolves.toBe(0);
    await screenshot(page, 'run-retried');
    await done(page);
  });

  it('filters the runs list, keeping the filters in the address', async () => {
    const page = await newPage();
    await page.goto('/runs');
    await page.locator('#runs-body tr').first().waitFor();
    await page.selectOption('#f-status', 'failed');
    await page.waitForURL(/\/runs\?status=failed$/);
    await page.selectOption('#f-workflow', 'fails');
    await page.waitForURL(/\/runs\?workflow=fails&status=failed$/);
    await waitFor(async () => {
      const statuses = await page
        .locator('#runs-body tr[data-status]')
        .evaluateAll((rows) =>
          rows.map(
            (r) =>
              `${r.getAttribute('data-status')} ${r.querySelector('td[data-label="Workflow"]')?.textContent}`,
          ),
        );
      return statuses.length > 0 && statuses.every((s) => s === 'failed fails');
    });
    // The address is shareable: loading it again shows the same filters.
    await page.reload();
    await expect(page.locator('#f-status').inputValue()).resolves.toBe('failed');
    await screenshot(page, 'runs-filtered');
    await done(page);
  });

  it('shows a cycle error in the playground as you type', async () => {
    const page = await newPage();
    await page.goto('/playground');
    await page.locator('#playground-result [data-valid="true"]').waitFor();
    await page.fill(
      '#yaml',
      [
        'name: loop',
        'tasks:',
        '  build:',
        '    run: make',
        '    depends_on: [test]',
        '  test:',
        '    run: make test',
        '    depends_on: [build]',
        '',
      ].join('\n'),
    );
    await page.locator('#playground-result .problems').getByText('cycle in depends_on').waitFor();
    await page.locator('#playground-result .dag-edge-cycle').first().waitFor();
    await screenshot(page, 'playground-cycle');
    await done(page);
  });

  it("shows each workflow's last run and history on the overview", async () => {
    const page = await newPage();
    await page.goto('/');
    await page.locator('tr[data-workflow="fails"] .strip-cell.st-failed').first().waitFor();
    await page.locator('tr[data-workflow="flaky"] .strip-cell.st-succeeded').first().waitFor();
    await expect(
      page.locator('tr[data-workflow="long"] td[data-label="Last run"]').innerText(),
    ).resolves.toContain('cancelled');
    await screenshot(page, 'overview-history');
    await done(page);
  });

  it('reads at phone width in dark mode', async () => {
    const phone = await browser.newContext({
      viewport: { width: 390, height: 844 },
      colorScheme: 'dark',
      baseURL: base,
      storageState: await context.storageState(),
    });
    const page = await phone.newPage();
    await page.goto('/runs');
    await page.locator('#runs-body tr').first().waitFor();
    const width = await page.evaluate('document.documentElement.scrollWidth');
    expect(width).toBeLessThanOrEqual(390);
    await screenshot(page, 'runs-phone-dark');
    await phone.close();
  });
});
