/**
 * Headless Chromium for the report.html tests and benchmark: the system's browser (Debian's `chromium`)
 * driven by playwright-core, never a downloaded one (`npx playwright install` cannot work offline).
 * The flags keep it off the network: without the background-networking ones Chromium keeps trying to
 * reach Google's services. Playwright gives each launch a fresh, temporary user-data-dir.
 */
import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

export const CHROMIUM_PATH = process.env["MDE_LR_CHROMIUM"] || "/usr/bin/chromium";

export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export const CHROMIUM_MISSING = `the report.html browser tests need Chromium at ${CHROMIUM_PATH}, and it is not there.
  Debian/Ubuntu:  sudo apt-get install -y chromium        (CI's .ci/run installs it when missing)
  elsewhere:      MDE_LR_CHROMIUM=/path/to/chrome-or-chromium npm test
  (playwright's own browser download is not used: the system browser is driven by playwright-core)`;

/** Fails with the fix spelled out when there is no browser: a missing browser never skips tests silently. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(CHROMIUM_MISSING);
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
}
