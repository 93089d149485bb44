/** Write and read a run's report files (report.json, summary.md) in its output folder. */
import fs from "node:fs";
import { InputError } from "../errors.js";
import { resolveInside } from "../results/paths.js";
import { writeFileAtomicSync } from "../results/safe-fs.js";
import { REPORT_HTML_FILE, writeReportHtml } from "./html/render.js";
import { renderSummary } from "./summary.js";
import type { RunReport } from "./types.js";

export const REPORT_FILE = "report.json";
export const SUMMARY_FILE = "summary.md";
export { REPORT_HTML_FILE };

/** report.json, summary.md and report.html (the page never fails the run: see writeReportHtml). */
export function writeReportFiles(outDir: string, report: RunReport): void {
  writeFileAtomicSync(resolveInside(outDir, REPORT_FILE), `${JSON.stringify(report, null, 2)}\n`);
  writeFileAtomicSync(resolveInside(outDir, SUMMARY_FILE), renderSummary(report));
  writeReportHtml(outDir, report);
}

/** The last report.json written in `outDir` (a run writes it at the end, on detach and on cancel). */
export function readReportFile(outDir: string): RunReport {
  const file = resolveInside(outDir, REPORT_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    throw new InputError(
      "outDir",
      `no ${REPORT_FILE} in ${outDir}: the run has not written one yet (resume it)`,
      {
        cause: error,
      },
    );
  }
  const report = JSON.parse(text) as RunReport;
  if (report.schemaVersion !== 1) {
    throw new InputError(
      "outDir",
      `${file} has schemaVersion ${String(report.schemaVersion)}; this version reads 1`,
    );
  }
  return report;
}
