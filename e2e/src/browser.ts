import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/** Debian's chromium with the flags this environment needs; never a downloaded browser. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export const SCREENSHOT_DIR = fileURLToPath(new URL('../test-results/screenshots', import.meta.url));

// An API call answered 4xx is expected (a wrong password is a 401) and Chromium logs it as a
// console error; anything else logged as an error is a defect of the page.
const EXPECTED = /^Failed to load resource: the server responded with a status of 4\d\d/;

/** A page that records console errors, uncaught exceptions and CSP violations. */
export async function openPage(context: BrowserContext): Promise<{ page: Page; problems: string[] }> {
  const page = await context.newPage();
  const problems: string[] = [];
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      // Runs in the page: report the violation where the console listener below sees it.
      // eslint-disable-next-line no-console
      console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI}`);
    });
  });
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !EXPECTED.test(msg.text())) problems.push(`${page.url()}: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`${page.url()}: uncaught ${err.message}`));
  return { page, problems };
}

/** Saves a full-page screenshot under test-results/screenshots. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}

/** Fresh browser contexts whose pages' problems are collected, to assert none at the end. */
export class Screens {
  readonly problems: string[] = [];

  constructor(private readonly browser: Browser) {}

  async fresh(viewport = { width: 1024, height: 768 }): Promise<{ context: BrowserContext; page: Page }> {
    const context = await this.browser.newContext({ viewport });
    const opened = await openPage(context);
    opened.page.on('close', () => this.problems.push(...opened.problems));
    return { context, page: opened.page };
  }
}
