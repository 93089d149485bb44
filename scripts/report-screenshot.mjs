// Takes docs/report-screenshot.png from the demo run: `mde-lr run examples/runbooks/triage.yaml
// --emulator` into a temporary folder, then its report.html in headless Chromium (the system browser,
// bench/harness/chromium.ts), with the tooltip of the first device's first span showing.
//   npm run build  (lib/ for the CLI)   then   node scripts/report-screenshot.mjs
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const out = path.join(root, "docs", "report-screenshot.png");
const work = mkdtempSync(path.join(os.tmpdir(), "mde-lr-screenshot-"));
// Inside the repository, so the bundle resolves playwright-core from node_modules.
const helper = path.join(root, ".tmp", `report-screenshot-${process.pid}.mjs`);
mkdirSync(path.dirname(helper), { recursive: true });
try {
  const run = spawnSync(
    process.execPath,
    [
      path.join(root, "bin/mde-lr.js"),
      "run",
      "examples/runbooks/triage.yaml",
      "--emulator",
      "--out",
      path.join(work, "run"),
    ],
    { cwd: root, stdio: ["ignore", "inherit", "inherit"], env: { ...process.env, NO_COLOR: "1" } },
  );
  if (run.status !== 0) throw new Error(`the demo run exited ${run.status}`);
  await build({
    entryPoints: [path.join(root, "bench/harness/chromium.ts")],
    bundle: true,
    platform: "node",
    format: "esm",
    packages: "external",
    outfile: helper,
    logLevel: "error",
    absWorkingDir: root,
  });
  const { launchChromium } = await import(pathToFileURL(helper).href);
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 }, deviceScaleFactor: 1 });
    await page.goto(pathToFileURL(path.join(work, "run", "report.html")).href);
    await page.waitForFunction("performance.getEntriesByName('mde-lr:first-screen').length > 0");
    const id = await page.evaluate("window.mdeLrReport.rows()[0].machineId");
    const point = await page.evaluate(`window.mdeLrReport.locate(${JSON.stringify(id)}, "pending")`);
    await page.mouse.move(point.x, point.y);
    await page.waitForTimeout(300);
    await page.screenshot({ path: out, fullPage: true });
    console.log(`wrote ${path.relative(root, out)}`);
  } finally {
    await browser.close();
  }
} finally {
  rmSync(work, { recursive: true, force: true });
  rmSync(helper, { force: true });
}
