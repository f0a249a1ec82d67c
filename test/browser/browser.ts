import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { type CliProcess, REPO, startCli } from '../helpers/cli.ts';
import { waitFor } from '../helpers/wait-for.ts';

/** Debian's chromium (installed by .ci/run); another binary with BATON_TEST_CHROMIUM. */
export const CHROMIUM = process.env.BATON_TEST_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOTS = join(REPO, 'test-output', 'screenshots');

/** Headless Chromium; fails with what to do when it is not installed (never a silent skip). */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}: the browser tests need it. ` +
        'Install it with `apt-get install -y chromium` (.ci/run does), or point BATON_TEST_CHROMIUM at a Chromium binary.',
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Saves a full-page screenshot as test-output/screenshots/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  // From the top, so the sticky header is drawn where it belongs on a full-page picture.
  await page.evaluate('window.scrollTo(0, 0)');
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** `baton serve` with `env`, and a desktop-sized browser context whose base URL is its address. */
export async function startServeFor(
  browser: Browser,
  env: Record<string, string>,
  timeoutMs: number,
): Promise<{ serve: CliProcess; context: BrowserContext; base: string }> {
  const serve = startCli(['serve'], env);
  const base = await waitFor(() => /Baton on (http:\/\/\S+)/.exec(serve.stderr())?.[1], {
    timeoutMs,
    message: 'baton serve did not start',
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, baseURL: base });
  context.setDefaultTimeout(timeoutMs);
  return { serve, context, base };
}

/** Closes what startServeFor and launchChromium opened (any of them may be missing after a failed start). */
export async function stopAll(parts: { context?: BrowserContext; browser?: Browser; serve?: CliProcess }) {
  await parts.context?.close();
  await parts.browser?.close();
  if (parts.serve?.running()) {
    parts.serve.signal('SIGTERM');
    await parts.serve.done;
  }
}
