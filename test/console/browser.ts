/**
 * Debian's chromium driven by playwright-core, for the console's browser tests. The binary is found at
 * $CHROMIUM_PATH, /usr/bin/chromium or /usr/bin/chromium-browser; without one the tests fail saying
 * how to install it (`apt-get update && apt-get install -y chromium`), rather than skipping.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

export class ChromiumNotFound extends Error {
  constructor(tried: readonly string[]) {
    super(
      `no chromium found (tried ${tried.join(', ')}); install it with: apt-get update && apt-get install -y chromium, or set CHROMIUM_PATH`,
    );
    this.name = 'ChromiumNotFound';
  }
}

/** The chromium binary to drive. */
export function findChromium(): string {
  const tried = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((p): p is string => !!p);
  const found = tried.find((p) => existsSync(p));
  if (found === undefined) throw new ChromiumNotFound(tried);
  return found;
}

export interface ConsoleBrowser {
  readonly browser: Browser;
  /** A new 1280x800 page that records console errors and page errors. */
  page(): Promise<{ page: Page; errors: string[] }>;
  close(): Promise<void>;
}

/** Launches headless chromium (a fresh profile, no background traffic). */
export async function launchBrowser(): Promise<ConsoleBrowser> {
  const browser = await chromium.launch({
    executablePath: findChromium(),
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    // playwright starts chromium with a fresh temporary profile of its own (it refuses --user-data-dir here).
  });
  return {
    browser,
    async page() {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      const errors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
      page.on('dialog', (d) => {
        errors.push(`dialog: ${d.message()}`);
        void d.dismiss();
      });
      return { page, errors };
    },
    async close() {
      await browser.close();
    },
  };
}
