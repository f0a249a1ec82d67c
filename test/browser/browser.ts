import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { REPO } from '../helpers/cli.ts';

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
