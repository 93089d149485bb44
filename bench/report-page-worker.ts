/**
 * Child of bench/report-page.ts, one job per process so each peak RSS is its own:
 * - `build`: the synthetic 5,000-device run folder (bench/harness/synthetic-run.ts), finished the way a
 *   run finishes (report.json, summary.md and report.html through writeReportFiles, timed);
 * - `rewrite`: what `mde-lr report <dir>` does (read report.json, write report.html), timed alone, so its
 *   peak RSS is the page writer's.
 */
import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import { writeReportHtml } from "../shared/report/html/render.js";
import { writeReportFiles } from "../shared/report/io.js";
import type { RunReport } from "../shared/report/types.js";
import { childMain } from "./harness/child.js";
import { buildSyntheticRun } from "./harness/synthetic-run.js";

export type PageJob =
  | { mode: "build"; outDir: string; devices: number }
  | { mode: "rewrite"; outDir: string };

export interface PageOutcome {
  realMs: number;
  /** writeReportFiles (build) or writeReportHtml alone (rewrite). */
  writeMs: number;
  pageBytes: number;
  timelineBytes: number;
  reportBytes: number;
  serviceMinutes: number | null;
  /** RSS just before the page is written (the report already in memory). */
  rssBeforeBytes: number;
}

childMain<PageJob, PageOutcome>(async (job) => {
  const t0 = performance.now();
  let serviceMinutes: number | null = null;
  let writeMs: number;
  let rssBeforeBytes: number;
  if (job.mode === "build") {
    const run = buildSyntheticRun(job.outDir, job.devices);
    serviceMinutes = run.serviceMs / 60_000;
    rssBeforeBytes = process.memoryUsage().rss;
    const w0 = performance.now();
    writeReportFiles(job.outDir, run.report);
    writeMs = performance.now() - w0;
  } else {
    const report = JSON.parse(readFileSync(path.join(job.outDir, "report.json"), "utf8")) as RunReport;
    rssBeforeBytes = process.memoryUsage().rss;
    const w0 = performance.now();
    const { error } = writeReportHtml(job.outDir, report);
    writeMs = performance.now() - w0;
    if (error) throw error;
  }
  const size = (f: string) => statSync(path.join(job.outDir, f)).size;
  return {
    realMs: performance.now() - t0,
    writeMs,
    pageBytes: size("report.html"),
    timelineBytes: size("timeline.jsonl"),
    reportBytes: size("report.json"),
    serviceMinutes,
    rssBeforeBytes,
  };
});
