/**
 * report.html benchmark at 5,000 devices: a synthetic run folder shaped exactly like a real run's
 * (bench/harness/synthetic-run.ts: the core's own journal, timeline recorder and report builder; a
 * 3-step runbook targeting its devices by machine id; simulated quotas), then
 * - the page's size, and its write time and peak memory in a process of its own (`mde-lr report`'s path);
 * - time to first screen in headless Chromium: the page's `mde-lr:first-screen` performance mark, set
 *   after the first paint of the header, the visible timeline rows and the table (median of RUNS loads);
 * - a search over every device until the rows are redrawn (informational).
 */
import { rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { MiB, runChild } from "./harness/child.js";
import { CHROMIUM_MISSING, CHROMIUM_PATH, launchChromium } from "./harness/chromium.js";
import { environment, type Figure, figure, figuresTable, writeResult } from "./harness/report.js";
import { isQuick, max, median } from "./harness/stats.js";
import type { PageJob, PageOutcome } from "./report-page-worker.js";

const DEVICES = isQuick() ? 500 : 5_000;
const RUNS = isQuick() ? 2 : 3;
const WORK = path.join(os.platform() === "linux" ? "/dev/shm" : os.tmpdir(), `mde-bench-page-${process.pid}`);
const PAGE_GOAL_BYTES = 10_000_000;
const FIRST_SCREEN_GOAL_MS = 2_000;

interface Load {
  firstScreenMs: number;
  domContentLoadedMs: number;
  timelineRowsDrawn: number;
  tableRowsInDom: number;
  searchMs: number;
}

async function loadInBrowser(file: string): Promise<Load[] | string> {
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  try {
    browser = await launchChromium();
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  const loads: Load[] = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      await page.goto(pathToFileURL(file).href);
      await page.waitForFunction("performance.getEntriesByName('mde-lr:first-screen').length > 0", null, {
        timeout: 60_000,
      });
      const m = (await page.evaluate(`({
        firstScreenMs: performance.getEntriesByName("mde-lr:first-screen")[0].startTime,
        domContentLoadedMs: performance.getEntriesByType("navigation")[0].domContentLoadedEventEnd,
        timelineRowsDrawn: window.mdeLrReport.visibleTimelineRows().length,
        tableRowsInDom: document.querySelectorAll("#results-table tr[data-row]").length,
      })`)) as Omit<Load, "searchMs">;
      // One search over every device: from the keystroke to the redrawn rows (the input waits 120 ms).
      const searchMs = (await page.evaluate(`new Promise((resolve) => {
        const input = document.getElementById("search");
        const t0 = performance.now();
        input.value = "ws-04999";
        input.dispatchEvent(new Event("input"));
        const check = () => window.mdeLrReport.rows().length === 1
          ? requestAnimationFrame(() => resolve(performance.now() - t0))
          : setTimeout(check, 5);
        check();
      })`)) as number;
      loads.push({ ...m, searchMs });
      await page.close();
    }
  } finally {
    await browser.close();
  }
  return loads;
}

async function main(): Promise<void> {
  const started = Date.now();
  const worker = path.join(path.dirname(process.argv[1]!), "report-page-worker.mjs");
  const outDir = path.join(WORK, "run");
  rmSync(WORK, { recursive: true, force: true });
  const notes: string[] = [
    `synthetic ${DEVICES}-device run (3-step runbook, targets by machine id), folder on ${WORK}: the core's Journal, TimelineRecorder and buildReport wrote it; the scheduler and the service were simulated (10 submissions/min, 25 sessions, 10 s polls, 1-6 min sessions)`,
  ];
  try {
    const build = await runChild<PageJob, PageOutcome>(
      worker,
      { mode: "build", outDir, devices: DEVICES },
      {
        timeoutMs: 240_000,
      },
    );
    const rewrite = await runChild<PageJob, PageOutcome>(
      worker,
      { mode: "rewrite", outDir },
      { timeoutMs: 120_000 },
    );
    const loads = await loadInBrowser(path.join(outDir, "report.html"));
    const measured = typeof loads === "string" ? null : loads;
    if (!measured) notes.push(`browser not measured: ${CHROMIUM_MISSING}`);
    else notes.push(`Chromium ${CHROMIUM_PATH}, viewport 1400×900, ${RUNS} loads`);
    const b = build.result;
    const r = rewrite.result;
    const figures: Figure[] = [
      figure("pageMiB", `report.html size (${DEVICES} devices)`, r.pageBytes / MiB, "MiB", {
        op: "<=",
        target: PAGE_GOAL_BYTES / MiB,
      }),
      figure(
        "firstScreenMs",
        `first screen in headless Chromium (${DEVICES} devices, median of ${RUNS})`,
        measured ? median(measured.map((l) => l.firstScreenMs)) : null,
        "ms",
        { op: "<=", target: FIRST_SCREEN_GOAL_MS },
        measured ? null : "no Chromium",
      ),
      figure(
        "firstScreenWorstMs",
        "first screen, slowest load",
        measured ? max(measured.map((l) => l.firstScreenMs)) : null,
        "ms",
      ),
      figure(
        "writeMs",
        "writing report.html (read timeline, build data, render, atomic write)",
        r.writeMs,
        "ms",
      ),
      figure(
        "writeRssMiB",
        "peak RSS of the process writing it (mde-lr report's path)",
        rewrite.maxRssBytes / MiB,
        "MiB",
      ),
      figure(
        "writeRssGrowthMiB",
        "of which added by the page (over the report in memory)",
        (rewrite.maxRssBytes - r.rssBeforeBytes) / MiB,
        "MiB",
      ),
      figure("finishMs", "a run's finish: report.json + summary.md + report.html", b.writeMs, "ms"),
      figure("timelineMiB", "timeline.jsonl size", r.timelineBytes / MiB, "MiB"),
      figure("reportMiB", "report.json size", r.reportBytes / MiB, "MiB"),
      figure(
        "searchMs",
        "search over every device until redrawn (incl. 120 ms typing pause)",
        measured ? median(measured.map((l) => l.searchMs)) : null,
        "ms",
      ),
    ];
    if (measured) {
      notes.push(
        `rows drawn on the first screen: ${measured[0]!.timelineRowsDrawn} timeline rows, ${measured[0]!.tableRowsInDom} table rows in the DOM (of ${DEVICES * 3}): both virtualised`,
      );
    }
    notes.push(
      `simulated run: ${b.serviceMinutes?.toFixed(0)} service minutes; building the folder took ${(b.realMs / 1000).toFixed(1)} s`,
    );
    console.log(figuresTable(figures));
    for (const n of notes) console.log(`- ${n}`);
    const file = writeResult({
      bench: "report-page",
      command: "npm run bench -- --only=report-page",
      startedAt: new Date(started).toISOString(),
      durationMs: Date.now() - started,
      environment: environment(),
      figures,
      rows: [
        { phase: "build", ...b, maxRssMiB: build.maxRssBytes / MiB },
        { phase: "rewrite", ...r, maxRssMiB: rewrite.maxRssBytes / MiB },
        ...(measured ?? []).map((l, i) => ({ phase: `load ${i + 1}`, ...l })),
      ],
      notes,
    });
    console.log(`wrote ${file}`);
  } finally {
    rmSync(WORK, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
